//! Generates text: `cargo run --example generate -- MODEL.gguf "Once upon a time" 32`
//! (with DELTALLM_LIB_DIR set to the folder of libdeltallm.so, or unset to
//! build the library with CMake).
use std::io::Write;

use deltallm::{Context, ContextParams, Model, Sampler, SamplerParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: {} MODEL.gguf PROMPT [N_TOKENS] [SEED]", args[0]);
        std::process::exit(2);
    }
    let n: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(32);
    let seed: u32 = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(1);

    let model = Model::load(&args[1])?;
    let prompt = model.tokenize(&args[2], true, true)?;
    let params = ContextParams { n_ctx: (prompt.len() + n + 1) as i64, ..Default::default() };
    let mut ctx = Context::new(&model, &params)?;
    let mut sampler = Sampler::new(&model, &SamplerParams { seed, ..Default::default() })?;
    let mut out = model.detokenizer()?;
    for &t in &prompt {
        sampler.accept(t)?;
    }
    ctx.decode(&prompt)?;

    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    write!(w, "{}", args[2])?;
    for _ in 0..n {
        let tok = sampler.sample(&ctx, -1)?;
        sampler.accept(tok)?;
        if model.is_eog(tok)? {
            break;
        }
        write!(w, "{}", out.push(tok)?)?;
        w.flush()?;
        ctx.decode(&[tok])?;
    }
    writeln!(w, "{}", out.flush()?)?;
    Ok(())
}
