//! The safe API against the library: DELTALLM_LIB_DIR names the library's
//! folder (or deltallm-sys builds it); the model is DELTALLM_TEST_MODEL, or a
//! tiny one made with `deltallm make-model` (DELTALLM_BIN, else
//! DELTALLM_LIB_DIR/../bin/deltallm, else `deltallm` on PATH).
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use deltallm::{Batch, Context, ContextParams, Model, Sampler, SamplerParams, Status, TokenType};

fn deltallm_bin() -> Option<PathBuf> {
    if let Ok(b) = std::env::var("DELTALLM_BIN") {
        return Some(PathBuf::from(b));
    }
    if let Ok(d) = std::env::var("DELTALLM_LIB_DIR") {
        let p = Path::new(&d).join("../bin/deltallm");
        if p.exists() {
            return Some(p);
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|d| d.join("deltallm")).find(|p| p.exists())
    })
}

fn model_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Ok(p) = std::env::var("DELTALLM_TEST_MODEL") {
            return PathBuf::from(p);
        }
        let bin = deltallm_bin().expect("set DELTALLM_TEST_MODEL, or DELTALLM_BIN to make a tiny model");
        // Inside the target directory (cargo's scratch space for integration
        // tests), so that runs leave nothing behind in /tmp.
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deltallm_tiny.gguf");
        let st = Command::new(bin)
            .args(["make-model", "--arch", "qwen35", "--preset", "tiny", "--seed", "1", "-o"])
            .arg(&out)
            .output()
            .expect("running deltallm make-model");
        assert!(st.status.success(), "make-model failed: {}", String::from_utf8_lossy(&st.stderr));
        out
    })
}

fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| Model::load(model_path()).expect("loading the test model"))
}

fn one_thread(n_ctx: i64) -> ContextParams {
    ContextParams { n_ctx, n_threads: 1, ..Default::default() }
}

fn prompt_ids(n: usize, seed: u32) -> Vec<i32> {
    (0..n as u32).map(|i| ((seed * 7919 + i * 104729) % 300) as i32).collect()
}

#[test]
fn library_facts() {
    assert_eq!(deltallm::version(), "0.1.0");
    assert!(deltallm::capability(deltallm::Capability::HardwareThreads) >= 1);
    assert!(deltallm::supported_architectures().iter().any(|a| a == "qwen3next"));
    assert!(deltallm::check_abi().is_ok());
}

#[test]
fn load_errors_are_results() {
    let e = Model::load("/nonexistent/x.gguf").err().unwrap();
    assert_eq!(e.status, Status::Io);
    assert!(e.message.contains("/nonexistent/x.gguf"), "{}", e.message);
    let mut calls = 0;
    let e = Model::load_with_progress(model_path(), |_| {
        calls += 1;
        calls < 2
    })
    .err()
    .unwrap();
    assert_eq!(e.status, Status::Cancelled);
    assert_eq!(calls, 2);
    let v = Model::load_vocab_only(model_path()).unwrap();
    assert!(v.info().vocab_only);
    assert_eq!(Context::new(&v, &ContextParams::default()).err().unwrap().status, Status::NotAvailable);
}

#[test]
fn info_metadata_and_text() {
    let m = model();
    let info = m.info();
    let meta = m.metadata().unwrap();
    let arch = meta.iter().find(|(k, _)| k == "general.architecture").map(|(_, v)| v.clone()).unwrap();
    assert_eq!(arch, info.architecture);
    assert_eq!(info.n_vocab, 1024);
    let text = "Hello world, the café! <|im_end|>";
    let ids = m.tokenize(text, true, true).unwrap();
    assert_eq!(m.detokenize(&ids, true).unwrap(), text);
    let mut d = deltallm::Detokenizer::new(m, true).unwrap();
    let mut s = String::new();
    for &t in &ids {
        s += &d.push(t).unwrap();
    }
    s += &d.flush().unwrap();
    assert_eq!(s, text);
    let v = m.vocab().unwrap();
    assert!(m.is_eog(v.eos.unwrap()).unwrap());
    assert_eq!(m.token_type(v.eos.unwrap()).unwrap(), TokenType::Control);
    assert_eq!(m.tokenize_bytes(b"\xff", false, false).err().unwrap().status, Status::InvalidArgument);
    let chat = m.apply_chat_template(&[("user", "Hi")], true).unwrap();
    assert!(chat.ends_with("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"), "{chat}");
    let opts = deltallm::ChatOptions { template: Some("{{ messages | length }}".into()), ..Default::default() };
    assert_eq!(m.apply_chat_template_json(r#"[{"role":"user","content":"a"}]"#, &opts).unwrap(), "1");
    let opts = deltallm::ChatOptions {
        template: Some("{{ effort }}".into()),
        template_kwargs_json: Some(r#"{"effort": "low"}"#.into()),
        ..Default::default()
    };
    assert_eq!(m.apply_chat_template_json(r#"[{"role":"user","content":"a"}]"#, &opts).unwrap(), "low");
}

#[test]
fn greedy_generation_matches_argmax_and_seeds_reproduce() {
    let m = model();
    let run = |seed: u32, temp: f32| -> Vec<i32> {
        let mut ctx = Context::new(m, &one_thread(64)).unwrap();
        let mut s = Sampler::new(m, &SamplerParams { seed, temp, ..Default::default() }).unwrap();
        ctx.decode(&prompt_ids(6, 1)).unwrap();
        let mut out = vec![];
        for _ in 0..10 {
            let t = s.sample(&ctx, -1).unwrap();
            if temp == 0.0 {
                // Oracle: the best token that is not UNUSED.
                let row = ctx.logits(-1).unwrap();
                let best = (0..row.len())
                    .filter(|&i| m.token_type(i as i32).unwrap() != TokenType::Unused)
                    .fold(None, |b: Option<usize>, i| match b {
                        Some(j) if row[j] >= row[i] => Some(j),
                        _ => Some(i),
                    })
                    .unwrap();
                assert_eq!(t, best as i32);
            }
            s.accept(t).unwrap();
            out.push(t);
            ctx.decode(&[t]).unwrap();
        }
        out
    };
    assert_eq!(run(1, 0.0), run(2, 0.0));
    assert_eq!(run(5, 0.9), run(5, 0.9));
    assert_ne!(run(5, 0.9), run(6, 0.9));
}

#[test]
fn snapshots_continue_exactly() {
    let m = model();
    let mut c = Context::new(m, &ContextParams { n_ctx: 128, n_seq: 2, n_threads: 1, ..Default::default() }).unwrap();
    let mut b = Batch::new();
    for t in prompt_ids(20, 2) {
        b.add(t, 0, false);
    }
    b.add(3, 0, true);
    c.decode_batch(&b).unwrap();
    let snap = c.state(0).unwrap();
    c.restore(1, &snap).unwrap();
    assert_eq!(c.seq_length(1).unwrap(), 21);
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deltallm_{}.state", std::process::id()));
    c.save_state_file(0, &file).unwrap();
    let mut b0 = Batch::new();
    b0.add(42, 0, true);
    c.decode_batch(&b0).unwrap();
    let want = c.logits(-1).unwrap().to_vec();
    let mut b1 = Batch::new();
    b1.add(42, 1, true);
    c.decode_batch(&b1).unwrap();
    assert_eq!(c.logits(-1).unwrap(), &want[..]);
    let mut c2 = Context::new(m, &one_thread(64)).unwrap();
    c2.load_state_file(0, &file).unwrap();
    c2.decode(&[42]).unwrap();
    assert_eq!(c2.logits(-1).unwrap(), &want[..]);
    assert_eq!(c2.restore(0, &snap[..snap.len() - 1]).err().unwrap().status, Status::Format);
    let _ = std::fs::remove_file(file);
}

#[test]
fn rollback_drops_drafts() {
    let m = model();
    let ids = prompt_ids(10, 4);
    let params = ContextParams { n_ctx: 64, n_threads: 1, n_rollback: 4, ..Default::default() };
    assert!(m.memory_needed(&params).unwrap().checkpoints > 0);
    let mut c = Context::new(m, &params).unwrap();
    let mut reference = Context::new(m, &one_thread(64)).unwrap();
    c.decode(&ids).unwrap();
    c.decode(&[5, 6, 7, 8]).unwrap();
    assert_eq!(c.seq_rollback(0, 10).err().unwrap().status, Status::NotAvailable);
    assert_eq!(c.seq_rollback(0, 15).err().unwrap().status, Status::InvalidArgument);
    c.seq_rollback(0, 12).unwrap();
    assert_eq!(c.seq_length(0).unwrap(), 12);
    c.decode(&[9]).unwrap();
    reference.decode(&ids).unwrap();
    reference.decode(&[5, 6]).unwrap();
    reference.decode(&[9]).unwrap();
    assert_eq!(c.logits(-1).unwrap(), reference.logits(-1).unwrap());
}

#[test]
fn checkpoint_goes_back_to_a_prefix() {
    let m = model();
    let ids = prompt_ids(10, 4);
    let mut c = Context::new(m, &one_thread(64)).unwrap();
    let mut reference = Context::new(m, &one_thread(64)).unwrap();
    c.decode(&ids).unwrap();
    let cp = c.checkpoint(0).unwrap();
    assert_eq!(Context::checkpoint_length(&cp).unwrap(), 10);
    c.decode(&[5, 6, 7]).unwrap();
    c.restore_checkpoint(0, &cp).unwrap();
    assert_eq!(c.seq_length(0).unwrap(), 10);
    c.decode(&[9]).unwrap();
    reference.decode(&ids).unwrap();
    reference.decode(&[9]).unwrap();
    assert_eq!(c.logits(-1).unwrap(), reference.logits(-1).unwrap());
    assert_eq!(c.restore_checkpoint(0, &cp[..cp.len() - 1]).err().unwrap().status, Status::Format);
}

#[test]
fn abort_stops_and_the_context_goes_on() {
    let m = model();
    let ids = prompt_ids(64, 3);
    let params = ContextParams { n_ctx: 128, n_batch: 8, n_threads: 1, ..Default::default() };
    let mut reference = Context::new(m, &params).unwrap();
    let counted = Arc::new(AtomicUsize::new(0));
    let k = counted.clone();
    reference.set_abort(Some(Box::new(move || { k.fetch_add(1, Ordering::SeqCst); false }))).unwrap();
    reference.decode(&ids).unwrap();
    let want = reference.logits(-1).unwrap().to_vec();
    let total = counted.load(Ordering::SeqCst);
    assert!(total >= 8);
    for stop in [2, total / 2, total] {
        let mut c = Context::new(m, &params).unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let k = calls.clone();
        c.set_abort(Some(Box::new(move || k.fetch_add(1, Ordering::SeqCst) + 1 == stop))).unwrap();
        assert_eq!(c.decode(&ids).err().unwrap().status, Status::Aborted);
        assert_eq!(calls.load(Ordering::SeqCst), stop);
        let done = c.seq_length(0).unwrap() as usize;
        assert!(done % 8 == 0 && done < 64, "{done}");
        c.set_abort(None).unwrap();
        c.decode(&ids[done..]).unwrap();
        assert_eq!(c.logits(-1).unwrap(), &want[..]);
        assert_eq!(c.decode(&prompt_ids(200, 1)).err().unwrap().status, Status::ContextFull);
    }
}

#[test]
fn activation_callback_sees_matmul_inputs() {
    let m = model();
    let mut c = Context::new(m, &one_thread(64)).unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::<(String, i32, usize, usize)>::new()));
    let s = seen.clone();
    c.set_activation_callback(Some(Box::new(move |name: &str, expert: i32, rows: &[f32], n_cols: usize| {
        s.lock().unwrap().push((name.to_string(), expert, rows.len() / n_cols, n_cols));
    })))
    .unwrap();
    c.decode(&prompt_ids(20, 5)).unwrap();
    c.set_activation_callback(None).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].0, "blk.0.attn_qkv.weight");
    assert_eq!((seen[0].1, seen[0].2), (-1, 20));
    assert!(seen.iter().any(|e| e.0 == "output.weight" || e.0 == "token_embd.weight"));
}

#[test]
fn threads_share_one_model() {
    let m = model();
    let run = |ids: Vec<i32>| -> Vec<f32> {
        let mut c = Context::new(m, &one_thread(64)).unwrap();
        c.decode(&ids).unwrap();
        c.logits(-1).unwrap().to_vec()
    };
    let (a, b) = (run(prompt_ids(20, 1)), run(prompt_ids(15, 2)));
    let (ta, tb) = std::thread::scope(|s| {
        let x = s.spawn(|| run(prompt_ids(20, 1)));
        let y = s.spawn(|| run(prompt_ids(15, 2)));
        (x.join().unwrap(), y.join().unwrap())
    });
    assert_eq!(a, ta);
    assert_eq!(b, tb);
}

#[test]
fn hand_built_chain() {
    let m = model();
    let mut c = Context::new(m, &one_thread(64)).unwrap();
    c.decode(&prompt_ids(5, 4)).unwrap();
    let row = c.logits(-1).unwrap().to_vec();
    let mut g = Sampler::chain(m, 1).unwrap();
    g.add_greedy().unwrap();
    let best = g.sample(&c, -1).unwrap();
    let mut s = Sampler::chain(m, 1).unwrap();
    s.add_logit_bias(&[(best, f32::NEG_INFINITY)]).unwrap().add_greedy().unwrap();
    let second = s.sample_logits(&row).unwrap();
    assert_ne!(second, best);
    assert!(row[second as usize] <= row[best as usize]);
    assert_eq!(s.add_top_k(3).err().unwrap().status, Status::InvalidArgument);
    assert_eq!(Sampler::new(m, &SamplerParams { seed: 77, ..Default::default() }).unwrap().seed(), 77);
}
