//! Tests and examples of this crate find libdeltallm.so where deltallm-sys
//! found it (an rpath), so they run without LD_LIBRARY_PATH.
fn main() {
    if let Ok(dir) = std::env::var("DEP_DELTALLM_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
    }
}
