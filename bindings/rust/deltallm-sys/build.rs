//! Finds libdeltallm and generates the FFI declarations.
//!
//! - DELTALLM_LIB_DIR set: link the prebuilt shared library in that folder.
//! - otherwise: build the library from this checkout with CMake (Release,
//!   tests and tools off, only the shared library target).
//!
//! The library folder is passed on to dependents as DEP_DELTALLM_LIB_DIR (an
//! rpath for their tests and examples).
use std::env;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    // bindings/rust/deltallm-sys -> the repository root
    let root = manifest.join("../../..").canonicalize().expect("repository root");
    let header = root.join("include/deltallm.h");
    println!("cargo:rerun-if-env-changed=DELTALLM_LIB_DIR");
    println!("cargo:rerun-if-changed={}", header.display());

    let lib_dir = match env::var("DELTALLM_LIB_DIR") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            for d in ["src", "cmake", "CMakeLists.txt"] {
                println!("cargo:rerun-if-changed={}", root.join(d).display());
            }
            let dst = cmake::Config::new(&root)
                .profile("Release")
                .define("CMAKE_BUILD_TYPE", "Release")
                .define("DELTALLM_BUILD_TESTS", "OFF")
                .define("DELTALLM_BUILD_TOOLS", "OFF")
                .build_target("deltallm_shared")
                .build();
            dst.join("build").join("lib")
        }
    };
    if !lib_dir.join("libdeltallm.so").exists() {
        panic!("no libdeltallm.so in {} (set DELTALLM_LIB_DIR to the folder that has it)", lib_dir.display());
    }
    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    println!("cargo:rustc-link-lib=dylib=deltallm");
    println!("cargo:lib_dir={}", lib_dir.display());
    // So this crate's own tests find the library at run time.
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());

    let bindings = bindgen::Builder::default()
        .header(header.to_str().unwrap())
        .allowlist_function("deltallm_.*")
        .allowlist_type("deltallm_.*")
        .allowlist_var("DELTALLM_.*")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .size_t_is_usize(true)
        .layout_tests(true)
        .generate()
        .expect("bindgen could not parse include/deltallm.h");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("bindings.rs");
    bindings.write_to_file(&out).expect("writing bindings.rs");
}
