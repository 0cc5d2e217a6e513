//! Safe Rust API over deltallm's C API (`include/deltallm.h`).
//!
//! ```no_run
//! use deltallm::{Context, ContextParams, Model, Sampler, SamplerParams};
//! let model = Model::load("model.gguf")?;
//! let mut ctx = Context::new(&model, &ContextParams::default())?;
//! let mut sampler = Sampler::new(&model, &SamplerParams { seed: 1, ..Default::default() })?;
//! let mut out = model.detokenizer()?;
//! ctx.decode(&model.tokenize("Once upon a time", true, true)?)?;
//! for _ in 0..32 {
//!     let tok = sampler.sample(&ctx, -1)?;
//!     sampler.accept(tok)?;
//!     if model.is_eog(tok)? { break; }
//!     print!("{}", out.push(tok)?);
//!     ctx.decode(&[tok])?;
//! }
//! # Ok::<(), deltallm::Error>(())
//! ```
//!
//! Ownership follows the C API: a [`Model`] is immutable and `Send + Sync`
//! (share it between threads); a [`Context`], [`Sampler`] or [`Detokenizer`]
//! borrows its model, so it cannot outlive it, and is `Send` but not `Sync`
//! (one thread at a time). Every failure is an [`Error`] with the library's
//! status and message.
use std::ffi::{c_void, CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::c_char;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Mutex;

use deltallm_sys as sys;

/// What kind of failure (the C API's `deltallm_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InvalidArgument,
    Io,
    Format,
    OutOfMemory,
    Cancelled,
    Aborted,
    BufferTooSmall,
    NotAvailable,
    ContextFull,
    Internal,
    Other(u32),
}

impl Status {
    fn from_raw(s: sys::deltallm_status) -> Status {
        match s {
            sys::DELTALLM_ERR_INVALID_ARGUMENT => Status::InvalidArgument,
            sys::DELTALLM_ERR_IO => Status::Io,
            sys::DELTALLM_ERR_FORMAT => Status::Format,
            sys::DELTALLM_ERR_OUT_OF_MEMORY => Status::OutOfMemory,
            sys::DELTALLM_ERR_CANCELLED => Status::Cancelled,
            sys::DELTALLM_ERR_ABORTED => Status::Aborted,
            sys::DELTALLM_ERR_BUFFER_TOO_SMALL => Status::BufferTooSmall,
            sys::DELTALLM_ERR_NOT_AVAILABLE => Status::NotAvailable,
            sys::DELTALLM_ERR_CONTEXT_FULL => Status::ContextFull,
            sys::DELTALLM_ERR_INTERNAL => Status::Internal,
            other => Status::Other(other as u32),
        }
    }
}

/// A failed call: its status and the library's one-line message.
#[derive(Debug, Clone)]
pub struct Error {
    pub status: Status,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.message, self.status)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// The library's binary interface must be the one these bindings were built
/// against (`DELTALLM_ABI_VERSION` of deltallm.h): a prebuilt library of
/// another version is refused with a clear error instead of misreading structs.
pub fn check_abi() -> Result<()> {
    let lib = unsafe { sys::deltallm_abi_version() };
    let want = sys::DELTALLM_ABI_VERSION as i32;
    if lib == want {
        Ok(())
    } else {
        Err(Error {
            status: Status::InvalidArgument,
            message: format!("the deltallm library has ABI version {lib}, these bindings were built for {want}"),
        })
    }
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(sys::deltallm_last_error()) }.to_string_lossy().into_owned()
}

fn check(s: sys::deltallm_status) -> Result<()> {
    if s == sys::DELTALLM_OK {
        Ok(())
    } else {
        Err(Error { status: Status::from_raw(s), message: last_error() })
    }
}

fn cstring(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error { status: Status::InvalidArgument, message: format!("{what} contains a NUL byte") })
}

fn path_cstring(p: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error { status: Status::InvalidArgument, message: "path contains a NUL byte".into() })
}

/// Runs a C call with the header's buffer convention (ask for the size, then fill).
fn text_call(mut f: impl FnMut(*mut c_char, usize, *mut usize) -> sys::deltallm_status) -> Result<Vec<u8>> {
    let mut n = 0usize;
    let st = f(ptr::null_mut(), 0, &mut n);
    if st == sys::DELTALLM_OK {
        return Ok(Vec::new());
    }
    if st != sys::DELTALLM_ERR_BUFFER_TOO_SMALL {
        check(st)?;
    }
    let mut buf = vec![0u8; n + 1];
    check(f(buf.as_mut_ptr() as *mut c_char, buf.len(), &mut n))?;
    buf.truncate(n);
    Ok(buf)
}

unsafe fn owned_str(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// The library version ("0.1.0").
pub fn version() -> String {
    unsafe { owned_str(sys::deltallm_version()) }
}

/// Capabilities of this build and machine (never of a model).
#[derive(Debug, Clone, Copy)]
pub enum Capability {
    HardwareThreads,
    Avx2,
    Avx512,
    Avx512Vnni,
    Avx512Bf16,
    Mmap,
    ChatTemplates,
    StateFiles,
    MaxSequences,
    Gpu,
}

/// The value of a capability (0/1 for yes/no ones).
pub fn capability(c: Capability) -> i64 {
    let raw = match c {
        Capability::HardwareThreads => sys::DELTALLM_CAP_HARDWARE_THREADS,
        Capability::Avx2 => sys::DELTALLM_CAP_AVX2,
        Capability::Avx512 => sys::DELTALLM_CAP_AVX512,
        Capability::Avx512Vnni => sys::DELTALLM_CAP_AVX512_VNNI,
        Capability::Avx512Bf16 => sys::DELTALLM_CAP_AVX512_BF16,
        Capability::Mmap => sys::DELTALLM_CAP_MMAP,
        Capability::ChatTemplates => sys::DELTALLM_CAP_CHAT_TEMPLATES,
        Capability::StateFiles => sys::DELTALLM_CAP_STATE_FILES,
        Capability::MaxSequences => sys::DELTALLM_CAP_MAX_SEQUENCES,
        Capability::Gpu => sys::DELTALLM_CAP_GPU,
    };
    unsafe { sys::deltallm_capability_value(raw) }
}

/// Model architectures this build runs.
pub fn supported_architectures() -> Vec<String> {
    unsafe { owned_str(sys::deltallm_supported_architectures()) }.split(',').map(String::from).collect()
}

type LogFn = Box<dyn Fn(i32, &str) + Send + Sync>;
static LOGGER: Mutex<Option<LogFn>> = Mutex::new(None);

extern "C" fn log_trampoline(level: i32, text: *const c_char, _ud: *mut c_void) {
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let _ = std::panic::catch_unwind(|| {
        if let Ok(guard) = LOGGER.lock() {
            if let Some(f) = guard.as_ref() {
                f(level, &text);
            }
        }
    });
}

/// Sends log messages (level 0 debug .. 3 error) to `f`; `None` restores stderr.
pub fn set_log_callback(f: Option<LogFn>) {
    let mut guard = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    let install = f.is_some();
    *guard = f;
    drop(guard);
    unsafe { sys::deltallm_set_log_callback(if install { Some(log_trampoline) } else { None }, ptr::null_mut()) };
}

/// Drops messages below `level` (0 debug, 1 info (default), 2 warn, 3 error).
pub fn set_log_level(level: u32) -> Result<()> {
    check(unsafe { sys::deltallm_set_log_level(level as sys::deltallm_log_level) })
}

/// Facts about a loaded model.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub architecture: String,
    pub name: String,
    pub description: String,
    pub vocab_only: bool,
    pub n_vocab: usize,
    pub n_ctx_train: i64,
    pub n_embd: i64,
    pub n_layer: i32,
    pub n_layer_mtp: i32,
    pub n_recurrent_layers: i32,
    pub n_attention_layers: i32,
    pub n_head: i32,
    pub n_head_kv: i32,
    pub head_dim: i32,
    pub n_expert: i32,
    pub n_expert_used: i32,
    pub n_params: u64,
    pub weight_bytes: u64,
    pub bytes_per_token: u64,
    pub file_size: u64,
}

/// Special tokens and tokenizer facts.
#[derive(Debug, Clone)]
pub struct VocabInfo {
    pub n_tokens: i32,
    pub bos: Option<i32>,
    pub eos: Option<i32>,
    pub eot: Option<i32>,
    pub pad: Option<i32>,
    pub newline: Option<i32>,
    pub add_bos: bool,
    pub add_eos: bool,
    pub tokenizer_model: String,
    pub pre_type: String,
}

/// Memory of a context (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryInfo {
    pub weights: u64,
    pub kv_cache: u64,
    pub recurrent_state: u64,
    pub workspace: u64,
    pub total: u64,
    pub state_per_seq: u64,
    pub checkpoints: u64,
}

impl From<sys::deltallm_memory_info> for MemoryInfo {
    fn from(m: sys::deltallm_memory_info) -> Self {
        MemoryInfo {
            weights: m.weights,
            kv_cache: m.kv_cache,
            recurrent_state: m.recurrent_state,
            workspace: m.workspace,
            total: m.total,
            state_per_seq: m.state_per_seq,
            checkpoints: m.checkpoints,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    Undefined,
    Normal,
    Unknown,
    Control,
    UserDefined,
    Unused,
    Byte,
}

/// Options of [`Model::apply_chat_template_json`].
#[derive(Debug, Clone)]
pub struct ChatOptions {
    pub add_generation_prompt: bool,
    /// `None` leaves `enable_thinking` undefined in the template.
    pub enable_thinking: Option<bool>,
    /// A JSON array of tool definitions.
    pub tools_json: Option<String>,
    /// A template to use instead of the model's.
    pub template: Option<String>,
    /// A JSON object of further template variables (`chat_template_kwargs`).
    pub template_kwargs_json: Option<String>,
}

impl Default for ChatOptions {
    fn default() -> Self {
        ChatOptions {
            add_generation_prompt: true,
            enable_thinking: None,
            tools_json: None,
            template: None,
            template_kwargs_json: None,
        }
    }
}

/// A loaded GGUF model (immutable; share it between threads).
pub struct Model {
    ptr: NonNull<sys::deltallm_model>,
}

// The C API documents a model as safe to use from many threads at once.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

extern "C" fn progress_trampoline(p: f32, ud: *mut c_void) -> bool {
    let f = unsafe { &mut *(ud as *mut &mut dyn FnMut(f32) -> bool) };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(p))).unwrap_or(false)
}

impl Model {
    /// Loads a model file.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        Self::load_inner(path.as_ref(), None, false)
    }

    /// Loads with a progress callback (fraction in [0, 1]); returning false cancels.
    pub fn load_with_progress(path: impl AsRef<Path>, mut progress: impl FnMut(f32) -> bool) -> Result<Model> {
        let mut f: &mut dyn FnMut(f32) -> bool = &mut progress;
        Self::load_inner(path.as_ref(), Some(&mut f), false)
    }

    /// Loads only metadata, tokenizer and template (no weights, no contexts).
    pub fn load_vocab_only(path: impl AsRef<Path>) -> Result<Model> {
        Self::load_inner(path.as_ref(), None, true)
    }

    fn load_inner(path: &Path, progress: Option<&mut &mut dyn FnMut(f32) -> bool>, vocab_only: bool) -> Result<Model> {
        check_abi()?;
        let cpath = path_cstring(path)?;
        let mut p = unsafe { sys::deltallm_model_default_params() };
        p.vocab_only = vocab_only;
        if let Some(f) = progress {
            p.progress_callback = Some(progress_trampoline);
            p.progress_user_data = f as *mut &mut dyn FnMut(f32) -> bool as *mut c_void;
        }
        let mut out: *mut sys::deltallm_model = ptr::null_mut();
        check(unsafe { sys::deltallm_model_load(cpath.as_ptr(), &p, &mut out) })?;
        Ok(Model { ptr: NonNull::new(out).expect("deltallm_model_load gave NULL") })
    }

    fn raw(&self) -> *const sys::deltallm_model {
        self.ptr.as_ptr()
    }

    pub fn info(&self) -> ModelInfo {
        let mut i: sys::deltallm_model_info = unsafe { std::mem::zeroed() };
        i.size = std::mem::size_of::<sys::deltallm_model_info>();
        check(unsafe { sys::deltallm_model_get_info(self.raw(), &mut i) }).expect("model info");
        unsafe {
            ModelInfo {
                architecture: owned_str(i.architecture),
                name: owned_str(i.name),
                description: owned_str(i.description),
                vocab_only: i.vocab_only,
                n_vocab: i.n_vocab as usize,
                n_ctx_train: i.n_ctx_train,
                n_embd: i.n_embd,
                n_layer: i.n_layer,
                n_layer_mtp: i.n_layer_mtp,
                n_recurrent_layers: i.n_recurrent_layers,
                n_attention_layers: i.n_attention_layers,
                n_head: i.n_head,
                n_head_kv: i.n_head_kv,
                head_dim: i.head_dim,
                n_expert: i.n_expert,
                n_expert_used: i.n_expert_used,
                n_params: i.n_params,
                weight_bytes: i.weight_bytes,
                bytes_per_token: i.bytes_per_token,
                file_size: i.file_size,
            }
        }
    }

    /// Length of a logits row.
    pub fn n_vocab(&self) -> usize {
        self.info().n_vocab
    }

    /// Every GGUF metadata key with its value as text, in file order.
    pub fn metadata(&self) -> Result<Vec<(String, String)>> {
        let mut n = 0i32;
        check(unsafe { sys::deltallm_model_meta_count(self.raw(), &mut n) })?;
        let mut out = Vec::with_capacity(n as usize);
        for i in 0..n {
            let mut k: *const c_char = ptr::null();
            check(unsafe { sys::deltallm_model_meta_key(self.raw(), i, &mut k) })?;
            let key = unsafe { owned_str(k) };
            let v = self.meta(&key)?;
            out.push((key, v));
        }
        Ok(out)
    }

    /// One metadata value as text (strings as they are, numbers in decimal, arrays as JSON).
    pub fn meta(&self, key: &str) -> Result<String> {
        let k = cstring(key, "key")?;
        let v = text_call(|b, n, l| unsafe { sys::deltallm_model_meta_value(self.raw(), k.as_ptr(), b, n, l) })?;
        Ok(String::from_utf8_lossy(&v).into_owned())
    }

    pub fn memory_needed(&self, p: &ContextParams) -> Result<MemoryInfo> {
        let cp = p.raw();
        let mut m: sys::deltallm_memory_info = unsafe { std::mem::zeroed() };
        m.size = std::mem::size_of::<sys::deltallm_memory_info>();
        check(unsafe { sys::deltallm_model_memory_needed(self.raw(), &cp, &mut m) })?;
        Ok(m.into())
    }

    pub fn vocab(&self) -> Result<VocabInfo> {
        let mut v: sys::deltallm_vocab_info = unsafe { std::mem::zeroed() };
        v.size = std::mem::size_of::<sys::deltallm_vocab_info>();
        check(unsafe { sys::deltallm_model_get_vocab_info(self.raw(), &mut v) })?;
        let opt = |x: i32| if x >= 0 { Some(x) } else { None };
        Ok(VocabInfo {
            n_tokens: v.n_tokens,
            bos: opt(v.bos),
            eos: opt(v.eos),
            eot: opt(v.eot),
            pad: opt(v.pad),
            newline: opt(v.newline),
            add_bos: v.add_bos,
            add_eos: v.add_eos,
            tokenizer_model: unsafe { owned_str(v.tokenizer_model) },
            pre_type: unsafe { owned_str(v.pre_type) },
        })
    }

    /// The token's text as stored in the file.
    pub fn token_text(&self, token: i32) -> Result<String> {
        let mut t: *const c_char = ptr::null();
        check(unsafe { sys::deltallm_token_get_text(self.raw(), token, &mut t) })?;
        Ok(unsafe { owned_str(t) })
    }

    pub fn token_type(&self, token: i32) -> Result<TokenType> {
        let mut t: sys::deltallm_token_type = 0;
        check(unsafe { sys::deltallm_token_get_type(self.raw(), token, &mut t) })?;
        Ok(match t {
            sys::DELTALLM_TOKEN_NORMAL => TokenType::Normal,
            sys::DELTALLM_TOKEN_UNKNOWN => TokenType::Unknown,
            sys::DELTALLM_TOKEN_CONTROL => TokenType::Control,
            sys::DELTALLM_TOKEN_USER_DEFINED => TokenType::UserDefined,
            sys::DELTALLM_TOKEN_UNUSED => TokenType::Unused,
            sys::DELTALLM_TOKEN_BYTE => TokenType::Byte,
            _ => TokenType::Undefined,
        })
    }

    /// Whether the token ends generation (eos, eot, <|im_end|>, ...).
    pub fn is_eog(&self, token: i32) -> Result<bool> {
        let mut b = false;
        check(unsafe { sys::deltallm_token_is_eog(self.raw(), token, &mut b) })?;
        Ok(b)
    }

    /// Token ids of `text`. add_special: BOS/EOS as the model asks; parse_special:
    /// control-token texts become their ids.
    pub fn tokenize(&self, text: &str, add_special: bool, parse_special: bool) -> Result<Vec<i32>> {
        self.tokenize_bytes(text.as_bytes(), add_special, parse_special)
    }

    /// Like [`Model::tokenize`] for raw bytes (invalid UTF-8 is an error).
    pub fn tokenize_bytes(&self, text: &[u8], add_special: bool, parse_special: bool) -> Result<Vec<i32>> {
        let flags = (if add_special { sys::DELTALLM_TOKENIZE_ADD_SPECIAL } else { 0 })
            | (if parse_special { sys::DELTALLM_TOKENIZE_PARSE_SPECIAL } else { 0 });
        let tp = text.as_ptr() as *const c_char;
        let mut n = 0usize;
        let st = unsafe { sys::deltallm_tokenize(self.raw(), tp, text.len(), flags, ptr::null_mut(), 0, &mut n) };
        if st == sys::DELTALLM_OK {
            return Ok(Vec::new());
        }
        if st != sys::DELTALLM_ERR_BUFFER_TOO_SMALL {
            check(st)?;
        }
        let mut ids = vec![0i32; n];
        check(unsafe { sys::deltallm_tokenize(self.raw(), tp, text.len(), flags, ids.as_mut_ptr(), ids.len(), &mut n) })?;
        ids.truncate(n);
        Ok(ids)
    }

    /// The raw bytes of one token (possibly part of a UTF-8 character).
    pub fn token_to_piece(&self, token: i32, render_special: bool) -> Result<Vec<u8>> {
        let flags = if render_special { sys::DELTALLM_DETOKENIZE_RENDER_SPECIAL } else { 0 };
        text_call(|b, n, l| unsafe { sys::deltallm_token_to_piece(self.raw(), token, flags, b, n, l) })
    }

    pub fn detokenize(&self, tokens: &[i32], render_special: bool) -> Result<String> {
        let flags = if render_special { sys::DELTALLM_DETOKENIZE_RENDER_SPECIAL } else { 0 };
        let v = text_call(|b, n, l| unsafe {
            sys::deltallm_detokenize(self.raw(), tokens.as_ptr(), tokens.len(), flags, b, n, l)
        })?;
        Ok(String::from_utf8_lossy(&v).into_owned())
    }

    /// A streaming detokenizer (whole UTF-8 characters only).
    pub fn detokenizer(&self) -> Result<Detokenizer<'_>> {
        Detokenizer::new(self, false)
    }

    /// The model's chat template (tokenizer.chat_template).
    pub fn chat_template(&self) -> Result<String> {
        let mut t: *const c_char = ptr::null();
        check(unsafe { sys::deltallm_model_chat_template(self.raw(), ptr::null(), &mut t) })?;
        Ok(unsafe { owned_str(t) })
    }

    /// Renders (role, content) messages through the chat template.
    pub fn apply_chat_template(&self, messages: &[(&str, &str)], add_generation_prompt: bool) -> Result<String> {
        let owned: Vec<(CString, CString)> = messages
            .iter()
            .map(|(r, c)| Ok((cstring(r, "role")?, cstring(c, "content")?)))
            .collect::<Result<_>>()?;
        let msgs: Vec<sys::deltallm_chat_message> =
            owned.iter().map(|(r, c)| sys::deltallm_chat_message { role: r.as_ptr(), content: c.as_ptr() }).collect();
        let mut p = unsafe { sys::deltallm_chat_default_params() };
        p.add_generation_prompt = add_generation_prompt;
        let v = text_call(|b, n, l| unsafe {
            sys::deltallm_chat_apply_template(self.raw(), msgs.as_ptr(), msgs.len(), &p, b, n, l)
        })?;
        Ok(String::from_utf8_lossy(&v).into_owned())
    }

    /// Renders a JSON array of OpenAI-style messages (tool calls, reasoning, ...).
    pub fn apply_chat_template_json(&self, messages_json: &str, opts: &ChatOptions) -> Result<String> {
        let m = cstring(messages_json, "messages")?;
        let tools = opts.tools_json.as_deref().map(|t| cstring(t, "tools")).transpose()?;
        let tmpl = opts.template.as_deref().map(|t| cstring(t, "template")).transpose()?;
        let kwargs = opts.template_kwargs_json.as_deref().map(|t| cstring(t, "template_kwargs")).transpose()?;
        let mut p = unsafe { sys::deltallm_chat_default_params() };
        p.add_generation_prompt = opts.add_generation_prompt;
        p.enable_thinking = match opts.enable_thinking {
            None => -1,
            Some(false) => 0,
            Some(true) => 1,
        };
        p.tools_json = tools.as_ref().map_or(ptr::null(), |t| t.as_ptr());
        p.template_text = tmpl.as_ref().map_or(ptr::null(), |t| t.as_ptr());
        p.template_kwargs_json = kwargs.as_ref().map_or(ptr::null(), |t| t.as_ptr());
        let v = text_call(|b, n, l| unsafe {
            sys::deltallm_chat_apply_template_json(self.raw(), m.as_ptr(), &p, b, n, l)
        })?;
        Ok(String::from_utf8_lossy(&v).into_owned())
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { sys::deltallm_model_free(self.ptr.as_ptr()) }
    }
}

/// Parameters of a [`Context`].
#[derive(Debug, Clone)]
pub struct ContextParams {
    /// Positions per sequence; 0: min(trained context, 4096).
    pub n_ctx: i64,
    pub n_seq: i32,
    pub n_batch: i32,
    /// 0: all hardware threads.
    pub n_threads: i32,
    /// An f32 KV cache instead of f16.
    pub kv_f32: bool,
    /// Keep per-token checkpoints of batches of up to this many tokens, so
    /// that `seq_rollback` can drop them again (0: off; at most `n_batch`).
    pub n_rollback: i32,
}

impl Default for ContextParams {
    fn default() -> Self {
        let d = unsafe { sys::deltallm_context_default_params() };
        ContextParams {
            n_ctx: d.n_ctx,
            n_seq: d.n_seq,
            n_batch: d.n_batch,
            n_threads: d.n_threads,
            kv_f32: d.kv_type == sys::DELTALLM_KV_F32,
            n_rollback: d.n_rollback,
        }
    }
}

impl ContextParams {
    fn raw(&self) -> sys::deltallm_context_params {
        let mut p = unsafe { sys::deltallm_context_default_params() };
        p.n_ctx = self.n_ctx;
        p.n_seq = self.n_seq;
        p.n_batch = self.n_batch;
        p.n_threads = self.n_threads;
        p.kv_type = if self.kv_f32 { sys::DELTALLM_KV_F32 } else { sys::DELTALLM_KV_F16 };
        p.n_rollback = self.n_rollback;
        p
    }
}

/// Tokens to evaluate, possibly of several sequences.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    tokens: Vec<i32>,
    pos: Vec<i64>,
    seq_ids: Vec<i32>,
    logits: Vec<i8>,
    explicit_pos: bool,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }
    /// Adds a token that continues sequence `seq` (its position follows on its own).
    pub fn add(&mut self, token: i32, seq: i32, logits: bool) -> &mut Self {
        assert!(!self.explicit_pos, "Batch: mix of add and add_at");
        self.tokens.push(token);
        self.seq_ids.push(seq);
        self.logits.push(logits as i8);
        self
    }
    /// Adds a token at an explicit position (0 restarts the sequence).
    pub fn add_at(&mut self, token: i32, pos: i64, seq: i32, logits: bool) -> &mut Self {
        assert!(self.explicit_pos || self.tokens.is_empty(), "Batch: mix of add and add_at");
        self.explicit_pos = true;
        self.tokens.push(token);
        self.pos.push(pos);
        self.seq_ids.push(seq);
        self.logits.push(logits as i8);
        self
    }
    pub fn len(&self) -> usize {
        self.tokens.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

type AbortFn = Box<dyn FnMut() -> bool + Send>;

extern "C" fn abort_trampoline(ud: *mut c_void) -> bool {
    let f = unsafe { &mut *(ud as *mut AbortFn) };
    // A panicking callback stops the evaluation rather than unwinding into C.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f())).unwrap_or(true)
}

/// Sees the rows entering a weight matmul: (tensor name, expert or -1, rows
/// `[n_rows][n_cols]` flattened, n_cols).
pub type ActivationFn = Box<dyn FnMut(&str, i32, &[f32], usize) + Send>;

extern "C" fn activation_trampoline(
    ud: *mut c_void,
    name: *const std::os::raw::c_char,
    expert: i32,
    rows: *const f32,
    n_rows: i32,
    n_cols: i32,
) {
    let f = unsafe { &mut *(ud as *mut ActivationFn) };
    let name = unsafe { std::ffi::CStr::from_ptr(name) }.to_str().unwrap_or("");
    let n = (n_rows.max(0) as usize) * (n_cols.max(0) as usize);
    let rows = if n == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(rows, n) } };
    // A panic must not unwind into C: it is dropped here.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(name, expert, rows, n_cols.max(0) as usize)));
}

/// Evaluates batches for up to n_seq sequences (one thread at a time).
pub struct Context<'m> {
    ptr: NonNull<sys::deltallm_context>,
    n_vocab: usize,
    abort: Option<Box<AbortFn>>,
    activation: Option<Box<ActivationFn>>,
    _model: PhantomData<&'m Model>,
}

// One thread at a time: it may move between threads, not be shared.
unsafe impl Send for Context<'_> {}

impl<'m> Context<'m> {
    pub fn new(model: &'m Model, params: &ContextParams) -> Result<Context<'m>> {
        let p = params.raw();
        let mut out: *mut sys::deltallm_context = ptr::null_mut();
        check(unsafe { sys::deltallm_context_create(model.raw(), &p, &mut out) })?;
        Ok(Context {
            ptr: NonNull::new(out).expect("deltallm_context_create gave NULL"),
            n_vocab: model.n_vocab(),
            abort: None,
            activation: None,
            _model: PhantomData,
        })
    }

    fn raw(&self) -> *mut sys::deltallm_context {
        self.ptr.as_ptr()
    }

    /// Installs (Some) or removes (None) the abort callback, checked between
    /// micro-batches: returning true stops the decode with [`Status::Aborted`].
    pub fn set_abort(&mut self, f: Option<AbortFn>) -> Result<()> {
        match f {
            Some(f) => {
                let mut boxed: Box<AbortFn> = Box::new(f);
                let ud = &mut *boxed as *mut AbortFn as *mut c_void;
                check(unsafe { sys::deltallm_context_set_abort_callback(self.raw(), Some(abort_trampoline), ud) })?;
                self.abort = Some(boxed);
            }
            None => {
                check(unsafe { sys::deltallm_context_set_abort_callback(self.raw(), None, ptr::null_mut()) })?;
                self.abort = None;
            }
        }
        Ok(())
    }

    /// Installs (Some) or removes (None) the activation callback: it sees the
    /// input rows of every weight matmul of later decodes, by GGUF tensor name
    /// (MoE experts: the rows routed to each; see deltallm.h).
    pub fn set_activation_callback(&mut self, f: Option<ActivationFn>) -> Result<()> {
        match f {
            Some(f) => {
                let mut boxed: Box<ActivationFn> = Box::new(f);
                let ud = &mut *boxed as *mut ActivationFn as *mut c_void;
                check(unsafe {
                    sys::deltallm_context_set_activation_callback(self.raw(), Some(activation_trampoline), ud)
                })?;
                self.activation = Some(boxed);
            }
            None => {
                check(unsafe { sys::deltallm_context_set_activation_callback(self.raw(), None, ptr::null_mut()) })?;
                self.activation = None;
            }
        }
        Ok(())
    }

    pub fn n_ctx(&self) -> i64 {
        self.info().n_ctx
    }

    fn info(&self) -> sys::deltallm_context_info {
        let mut i: sys::deltallm_context_info = unsafe { std::mem::zeroed() };
        i.size = std::mem::size_of::<sys::deltallm_context_info>();
        check(unsafe { sys::deltallm_context_get_info(self.raw(), &mut i) }).expect("context info");
        i
    }

    pub fn n_threads(&self) -> i32 {
        self.info().n_threads
    }

    pub fn memory(&self) -> Result<MemoryInfo> {
        let mut m: sys::deltallm_memory_info = unsafe { std::mem::zeroed() };
        m.size = std::mem::size_of::<sys::deltallm_memory_info>();
        check(unsafe { sys::deltallm_context_get_memory(self.raw(), &mut m) })?;
        Ok(m.into())
    }

    pub fn memory_plan(&self) -> Result<String> {
        let mut t: *const c_char = ptr::null();
        check(unsafe { sys::deltallm_context_memory_plan(self.raw(), &mut t) })?;
        Ok(unsafe { owned_str(t) })
    }

    /// Evaluates tokens continuing sequence 0; logits for the last one.
    pub fn decode(&mut self, tokens: &[i32]) -> Result<()> {
        let mut b = unsafe { sys::deltallm_batch_default_params() };
        b.n_tokens = i32::try_from(tokens.len())
            .map_err(|_| Error { status: Status::InvalidArgument, message: "batch too large".into() })?;
        b.tokens = tokens.as_ptr();
        check(unsafe { sys::deltallm_decode(self.raw(), &b) })
    }

    pub fn decode_batch(&mut self, batch: &Batch) -> Result<()> {
        let mut b = unsafe { sys::deltallm_batch_default_params() };
        b.n_tokens = i32::try_from(batch.len())
            .map_err(|_| Error { status: Status::InvalidArgument, message: "batch too large".into() })?;
        b.tokens = batch.tokens.as_ptr();
        b.seq_ids = batch.seq_ids.as_ptr();
        b.logits = batch.logits.as_ptr();
        if batch.explicit_pos {
            b.pos = batch.pos.as_ptr();
        }
        check(unsafe { sys::deltallm_decode(self.raw(), &b) })
    }

    /// Logits row i of the last decode (-1: the last row). Borrowed until the next decode.
    pub fn logits(&self, i: i32) -> Result<&[f32]> {
        let mut p: *const f32 = ptr::null();
        check(unsafe { sys::deltallm_get_logits(self.raw(), i, &mut p) })?;
        Ok(unsafe { std::slice::from_raw_parts(p, self.n_vocab) })
    }

    pub fn n_logits(&self) -> Result<i32> {
        let mut n = 0i32;
        check(unsafe { sys::deltallm_get_n_logits(self.raw(), &mut n) })?;
        Ok(n)
    }

    pub fn seq_length(&self, seq: i32) -> Result<i64> {
        let mut n = 0i64;
        check(unsafe { sys::deltallm_seq_length(self.raw(), seq, &mut n) })?;
        Ok(n)
    }

    /// Empties a sequence (-1: all).
    pub fn seq_clear(&mut self, seq: i32) -> Result<()> {
        check(unsafe { sys::deltallm_seq_clear(self.raw(), seq) })
    }

    pub fn seq_copy(&mut self, src: i32, dst: i32) -> Result<()> {
        check(unsafe { sys::deltallm_seq_copy(self.raw(), src, dst) })
    }

    pub fn seq_keep(&mut self, seq: i32) -> Result<()> {
        check(unsafe { sys::deltallm_seq_keep(self.raw(), seq) })
    }

    /// Shortens a sequence to `len` positions, back into its last batch
    /// (speculative decoding; needs `ContextParams::n_rollback`).
    pub fn seq_rollback(&mut self, seq: i32, len: i64) -> Result<()> {
        check(unsafe { sys::deltallm_seq_rollback(self.raw(), seq, len) })
    }

    /// A snapshot of one sequence.
    pub fn state(&self, seq: i32) -> Result<Vec<u8>> {
        let mut n = 0usize;
        check(unsafe { sys::deltallm_seq_state_size(self.raw(), seq, &mut n) })?;
        let mut buf = vec![0u8; n];
        check(unsafe { sys::deltallm_seq_state_save(self.raw(), seq, buf.as_mut_ptr() as *mut c_void, n, &mut n) })?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Replaces a sequence with a snapshot (same model and KV type).
    pub fn restore(&mut self, seq: i32, state: &[u8]) -> Result<()> {
        check(unsafe { sys::deltallm_seq_state_load(self.raw(), seq, state.as_ptr() as *const c_void, state.len()) })
    }

    pub fn save_state_file(&self, seq: i32, path: impl AsRef<Path>) -> Result<()> {
        let p = path_cstring(path.as_ref())?;
        check(unsafe { sys::deltallm_seq_state_save_file(self.raw(), seq, p.as_ptr()) })
    }

    pub fn load_state_file(&mut self, seq: i32, path: impl AsRef<Path>) -> Result<()> {
        let p = path_cstring(path.as_ref())?;
        check(unsafe { sys::deltallm_seq_state_load_file(self.raw(), seq, p.as_ptr()) })
    }

    /// A prompt-cache checkpoint of one sequence at its current length: its
    /// recurrent + conv state without the KV rows (small, the same size at
    /// every length).
    pub fn checkpoint(&self, seq: i32) -> Result<Vec<u8>> {
        let mut n = 0usize;
        check(unsafe { sys::deltallm_seq_checkpoint_size(self.raw(), &mut n) })?;
        let mut buf = vec![0u8; n];
        check(unsafe {
            sys::deltallm_seq_checkpoint_save(self.raw(), seq, buf.as_mut_ptr() as *mut c_void, n, &mut n)
        })?;
        buf.truncate(n);
        Ok(buf)
    }

    /// The length (positions) a checkpoint was taken at.
    pub fn checkpoint_length(checkpoint: &[u8]) -> Result<i64> {
        let mut n = 0i64;
        check(unsafe {
            sys::deltallm_seq_checkpoint_length(checkpoint.as_ptr() as *const c_void, checkpoint.len(), &mut n)
        })?;
        Ok(n)
    }

    /// Truncates a sequence to the checkpoint's length and puts its recurrent
    /// state back (the sequence must still hold that prefix).
    pub fn restore_checkpoint(&mut self, seq: i32, checkpoint: &[u8]) -> Result<()> {
        check(unsafe {
            sys::deltallm_seq_checkpoint_restore(self.raw(), seq, checkpoint.as_ptr() as *const c_void, checkpoint.len())
        })
    }
}

impl Drop for Context<'_> {
    fn drop(&mut self) {
        unsafe { sys::deltallm_context_free(self.ptr.as_ptr()) }
    }
}

/// Parameters of the standard sampler chain (defaults of kernels.md §7.1).
#[derive(Debug, Clone)]
pub struct SamplerParams {
    /// `u32::MAX`: a random seed.
    pub seed: u32,
    pub temp: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub min_keep: i32,
    pub penalty_last_n: i32,
    pub penalty_repeat: f32,
    pub penalty_freq: f32,
    pub penalty_present: f32,
    pub penalize_nl: bool,
    pub logit_bias: Vec<(i32, f32)>,
}

impl Default for SamplerParams {
    fn default() -> Self {
        let d = unsafe { sys::deltallm_sampler_default_params() };
        SamplerParams {
            seed: d.seed,
            temp: d.temp,
            top_k: d.top_k,
            top_p: d.top_p,
            min_p: d.min_p,
            min_keep: d.min_keep,
            penalty_last_n: d.penalty_last_n,
            penalty_repeat: d.penalty_repeat,
            penalty_freq: d.penalty_freq,
            penalty_present: d.penalty_present,
            penalize_nl: d.penalize_nl,
            logit_bias: Vec::new(),
        }
    }
}

/// A sampler chain (one thread at a time).
pub struct Sampler<'m> {
    ptr: NonNull<sys::deltallm_sampler>,
    _model: PhantomData<&'m Model>,
}

unsafe impl Send for Sampler<'_> {}

fn bias_vec(b: &[(i32, f32)]) -> Vec<sys::deltallm_logit_bias> {
    b.iter().map(|&(token, bias)| sys::deltallm_logit_bias { token, bias }).collect()
}

impl<'m> Sampler<'m> {
    /// The standard chain: bias, penalties, top_k, top_p, min_p, temperature, dist.
    pub fn new(model: &'m Model, params: &SamplerParams) -> Result<Sampler<'m>> {
        let bias = bias_vec(&params.logit_bias);
        let mut p = unsafe { sys::deltallm_sampler_default_params() };
        p.seed = params.seed;
        p.temp = params.temp;
        p.top_k = params.top_k;
        p.top_p = params.top_p;
        p.min_p = params.min_p;
        p.min_keep = params.min_keep;
        p.penalty_last_n = params.penalty_last_n;
        p.penalty_repeat = params.penalty_repeat;
        p.penalty_freq = params.penalty_freq;
        p.penalty_present = params.penalty_present;
        p.penalize_nl = params.penalize_nl;
        p.logit_bias = if bias.is_empty() { ptr::null() } else { bias.as_ptr() };
        p.n_logit_bias = bias.len();
        let mut out: *mut sys::deltallm_sampler = ptr::null_mut();
        check(unsafe { sys::deltallm_sampler_create(model.raw(), &p, &mut out) })?;
        Ok(Sampler { ptr: NonNull::new(out).expect("NULL sampler"), _model: PhantomData })
    }

    /// An empty chain; add stages with the add_* methods.
    pub fn chain(model: &'m Model, seed: u32) -> Result<Sampler<'m>> {
        let mut out: *mut sys::deltallm_sampler = ptr::null_mut();
        check(unsafe { sys::deltallm_sampler_chain_create(model.raw(), seed, &mut out) })?;
        Ok(Sampler { ptr: NonNull::new(out).expect("NULL sampler"), _model: PhantomData })
    }

    fn raw(&self) -> *mut sys::deltallm_sampler {
        self.ptr.as_ptr()
    }

    pub fn add_logit_bias(&mut self, bias: &[(i32, f32)]) -> Result<&mut Self> {
        let b = bias_vec(bias);
        check(unsafe { sys::deltallm_sampler_add_logit_bias(self.raw(), b.as_ptr(), b.len()) })?;
        Ok(self)
    }
    pub fn add_penalties(&mut self, last_n: i32, repeat: f32, freq: f32, present: f32, penalize_nl: bool) -> Result<&mut Self> {
        check(unsafe { sys::deltallm_sampler_add_penalties(self.raw(), last_n, repeat, freq, present, penalize_nl) })?;
        Ok(self)
    }
    pub fn add_top_k(&mut self, k: i32) -> Result<&mut Self> {
        check(unsafe { sys::deltallm_sampler_add_top_k(self.raw(), k) })?;
        Ok(self)
    }
    pub fn add_top_p(&mut self, p: f32) -> Result<&mut Self> {
        check(unsafe { sys::deltallm_sampler_add_top_p(self.raw(), p) })?;
        Ok(self)
    }
    pub fn add_min_p(&mut self, p: f32) -> Result<&mut Self> {
        check(unsafe { sys::deltallm_sampler_add_min_p(self.raw(), p) })?;
        Ok(self)
    }
    pub fn add_temperature(&mut self, t: f32) -> Result<&mut Self> {
        check(unsafe { sys::deltallm_sampler_add_temperature(self.raw(), t) })?;
        Ok(self)
    }
    pub fn add_greedy(&mut self) -> Result<&mut Self> {
        check(unsafe { sys::deltallm_sampler_add_greedy(self.raw()) })?;
        Ok(self)
    }
    pub fn add_dist(&mut self) -> Result<&mut Self> {
        check(unsafe { sys::deltallm_sampler_add_dist(self.raw()) })?;
        Ok(self)
    }
    pub fn set_min_keep(&mut self, n: i32) -> Result<&mut Self> {
        check(unsafe { sys::deltallm_sampler_set_min_keep(self.raw(), n) })?;
        Ok(self)
    }

    /// Samples from logits row i of the context's last decode (-1: the last row).
    pub fn sample(&mut self, ctx: &Context<'_>, i: i32) -> Result<i32> {
        let mut t = 0i32;
        check(unsafe { sys::deltallm_sampler_sample(self.raw(), ctx.raw(), i, &mut t) })?;
        Ok(t)
    }

    pub fn sample_logits(&mut self, logits: &[f32]) -> Result<i32> {
        let mut t = 0i32;
        check(unsafe { sys::deltallm_sampler_sample_logits(self.raw(), logits.as_ptr(), logits.len(), &mut t) })?;
        Ok(t)
    }

    /// Records a token for the penalty window.
    pub fn accept(&mut self, token: i32) -> Result<()> {
        check(unsafe { sys::deltallm_sampler_accept(self.raw(), token) })
    }

    /// Forgets accepted tokens and restarts the random stream.
    pub fn reset(&mut self) -> Result<()> {
        check(unsafe { sys::deltallm_sampler_reset(self.raw()) })
    }

    pub fn seed(&self) -> u32 {
        let mut s = 0u32;
        check(unsafe { sys::deltallm_sampler_get_seed(self.raw(), &mut s) }).expect("sampler seed");
        s
    }
}

impl Drop for Sampler<'_> {
    fn drop(&mut self) {
        unsafe { sys::deltallm_sampler_free(self.ptr.as_ptr()) }
    }
}

/// Turns tokens into text as they come, never splitting a UTF-8 character.
pub struct Detokenizer<'m> {
    ptr: NonNull<sys::deltallm_detokenizer>,
    _model: PhantomData<&'m Model>,
}

unsafe impl Send for Detokenizer<'_> {}

impl<'m> Detokenizer<'m> {
    pub fn new(model: &'m Model, render_special: bool) -> Result<Detokenizer<'m>> {
        let flags = if render_special { sys::DELTALLM_DETOKENIZE_RENDER_SPECIAL } else { 0 };
        let mut out: *mut sys::deltallm_detokenizer = ptr::null_mut();
        check(unsafe { sys::deltallm_detokenizer_create(model.raw(), flags, &mut out) })?;
        Ok(Detokenizer { ptr: NonNull::new(out).expect("NULL detokenizer"), _model: PhantomData })
    }

    /// The text completed by this token (possibly empty).
    pub fn push(&mut self, token: i32) -> Result<String> {
        let mut t: *const c_char = ptr::null();
        let mut n = 0usize;
        check(unsafe { sys::deltallm_detokenizer_push(self.ptr.as_ptr(), token, &mut t, &mut n) })?;
        Ok(String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(t as *const u8, n) }).into_owned())
    }

    /// What is left (an incomplete character as U+FFFD); starts over.
    pub fn flush(&mut self) -> Result<String> {
        let mut t: *const c_char = ptr::null();
        let mut n = 0usize;
        check(unsafe { sys::deltallm_detokenizer_flush(self.ptr.as_ptr(), &mut t, &mut n) })?;
        Ok(String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(t as *const u8, n) }).into_owned())
    }
}

impl Drop for Detokenizer<'_> {
    fn drop(&mut self) {
        unsafe { sys::deltallm_detokenizer_free(self.ptr.as_ptr()) }
    }
}
