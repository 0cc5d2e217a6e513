"""Python bindings of deltallm's C API (ctypes; no compiler needed).

    import deltallm
    model = deltallm.Model("model.gguf")
    ctx = model.context(n_ctx=512)
    sampler = model.sampler(seed=1)
    tokens = model.tokenize("Once upon a time")
    ctx.decode(tokens)
    for _ in range(32):
        tok = sampler.sample(ctx)
        ...

Errors raise DeltaLLMError (with .status, one of the deltallm_status codes,
and the library's message). The library is DELTALLM_LIB when set, else
libdeltallm.so from the system loader. Models may be shared between
threads; a Context, Sampler or Detokenizer is used by one thread at a time.
"""
import array
import ctypes

from . import _lib
from ._lib import (CAP_AVX2, CAP_AVX512, CAP_AVX512_BF16, CAP_AVX512_VNNI, CAP_CHAT_TEMPLATES, CAP_GPU,  # noqa: F401
                   CAP_HARDWARE_THREADS, CAP_MAX_SEQUENCES, CAP_MMAP, CAP_STATE_FILES, ERR_ABORTED,
                   ERR_BUFFER_TOO_SMALL, ERR_CANCELLED, ERR_CONTEXT_FULL, ERR_FORMAT, ERR_INTERNAL,
                   ERR_INVALID_ARGUMENT, ERR_IO, ERR_NOT_AVAILABLE, ERR_OUT_OF_MEMORY, KV_F16, KV_F32, OK,
                   SEED_RANDOM)

__all__ = ["DeltaLLMError", "Model", "Context", "Sampler", "Detokenizer", "version", "capability",
           "supported_architectures", "set_log_callback", "set_log_level"]

_L = _lib.lib


class DeltaLLMError(Exception):
    """A failed call: .status is the deltallm_status code, .message the library's text."""

    def __init__(self, status, message):
        self.status = status
        self.message = message
        name = _L.deltallm_status_string(status).decode()
        super().__init__(f"{message} [{name}]")


def _check(status):
    if status != OK:
        raise DeltaLLMError(status, _L.deltallm_last_error().decode("utf-8", "replace"))


def _text_call(fn, *args):
    """Calls fn(*args, buf, size, &len) with the buffer protocol of deltallm.h; returns bytes."""
    n = ctypes.c_size_t(0)
    st = fn(*args, None, 0, ctypes.byref(n))
    if st == OK:
        return b""
    if st != ERR_BUFFER_TOO_SMALL:
        _check(st)
    buf = ctypes.create_string_buffer(n.value + 1)
    _check(fn(*args, buf, len(buf), ctypes.byref(n)))
    return buf.raw[:n.value]


def version():
    return _L.deltallm_version().decode()


def capability(cap):
    """Value of a CAP_* capability (-1 for one the library does not know)."""
    return _L.deltallm_capability_value(cap)


def supported_architectures():
    return _L.deltallm_supported_architectures().decode().split(",")


_log_keepalive = None


def set_log_callback(fn):
    """fn(level: int, text: str) receives log messages; None restores stderr."""
    global _log_keepalive
    if fn is None:
        _log_keepalive = None
        _L.deltallm_set_log_callback(_lib.LogCallback(), None)
        return
    _log_keepalive = _lib.LogCallback(lambda level, text, _ud: fn(level, text.decode("utf-8", "replace")))
    _L.deltallm_set_log_callback(_log_keepalive, None)


def set_log_level(level):
    _check(_L.deltallm_set_log_level(level))


class _Handle:
    """Owns one library handle (self._h), freed by the C function named _free:
    on close(), at garbage collection, or at the end of a `with` block."""
    _free = None

    def close(self):
        if getattr(self, "_h", None):
            getattr(_L, self._free)(self._h)
            self._h = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Model(_Handle):
    """A loaded GGUF model (immutable; shareable between threads)."""
    _free = "deltallm_model_free"

    _WEIGHT_MEMORY = {"auto": 0, "mmap": 1, "copy": 2}

    def __init__(self, path, progress=None, vocab_only=False, weights="auto"):
        """progress: optional fn(fraction) -> bool (False cancels the load).
        weights: "auto", "mmap" (map the file) or "copy" (read into memory on
        2 MiB pages); see deltallm_weight_memory in deltallm.h."""
        if weights not in self._WEIGHT_MEMORY:
            raise ValueError(f"weights must be one of {sorted(self._WEIGHT_MEMORY)}, not {weights!r}")
        p = _L.deltallm_model_default_params()
        keep = None
        if progress is not None:
            keep = _lib.ProgressCallback(lambda f, _ud: bool(progress(f)))
            p.progress_callback = keep
        p.vocab_only = vocab_only
        p.weight_memory = self._WEIGHT_MEMORY[weights]
        h = ctypes.c_void_p()
        _check(_L.deltallm_model_load(str(path).encode(), ctypes.byref(p), ctypes.byref(h)))
        self._h = h
        del keep  # only needed during the load
        info = _lib.ModelInfo()
        info.size = ctypes.sizeof(info)
        _check(_L.deltallm_model_get_info(self._h, ctypes.byref(info)))
        self.info = {name: (getattr(info, name).decode() if isinstance(getattr(info, name), bytes)
                            else getattr(info, name)) for name, _ in info._fields_ if name != "size"}
        self.n_vocab = info.n_vocab

    # metadata
    def metadata(self):
        """All GGUF metadata as {key: value text}."""
        n = ctypes.c_int32()
        _check(_L.deltallm_model_meta_count(self._h, ctypes.byref(n)))
        out = {}
        for i in range(n.value):
            k = ctypes.c_char_p()
            _check(_L.deltallm_model_meta_key(self._h, i, ctypes.byref(k)))
            out[k.value.decode()] = self.meta(k.value.decode())
        return out

    def meta(self, key):
        return _text_call(_L.deltallm_model_meta_value, self._h, key.encode()).decode("utf-8", "replace")

    def memory_needed(self, **ctx_params):
        info = _lib.MemoryInfo()
        info.size = ctypes.sizeof(info)
        p = _context_params(ctx_params)
        _check(_L.deltallm_model_memory_needed(self._h, ctypes.byref(p), ctypes.byref(info)))
        return {name: getattr(info, name) for name, _ in info._fields_ if name != "size"}

    # vocabulary
    def vocab(self):
        v = _lib.VocabInfo()
        v.size = ctypes.sizeof(v)
        _check(_L.deltallm_model_get_vocab_info(self._h, ctypes.byref(v)))
        return {name: (getattr(v, name).decode() if isinstance(getattr(v, name), bytes) else getattr(v, name))
                for name, _ in v._fields_ if name != "size"}

    def token_text(self, token):
        t = ctypes.c_char_p()
        _check(_L.deltallm_token_get_text(self._h, token, ctypes.byref(t)))
        return t.value.decode("utf-8", "replace")

    def token_type(self, token):
        t = ctypes.c_int()
        _check(_L.deltallm_token_get_type(self._h, token, ctypes.byref(t)))
        return _lib.TOKEN_TYPES.get(t.value, str(t.value))

    def is_eog(self, token):
        b = ctypes.c_bool()
        _check(_L.deltallm_token_is_eog(self._h, token, ctypes.byref(b)))
        return b.value

    def tokenize(self, text, add_special=True, parse_special=True):
        data = text.encode() if isinstance(text, str) else bytes(text)
        flags = (_lib.TOKENIZE_ADD_SPECIAL if add_special else 0) | (_lib.TOKENIZE_PARSE_SPECIAL if parse_special else 0)
        n = ctypes.c_size_t()
        st = _L.deltallm_tokenize(self._h, data, len(data), flags, None, 0, ctypes.byref(n))
        if st == OK:
            return []
        if st != ERR_BUFFER_TOO_SMALL:
            _check(st)
        arr = (ctypes.c_int32 * n.value)()
        _check(_L.deltallm_tokenize(self._h, data, len(data), flags, arr, n.value, ctypes.byref(n)))
        return list(arr)

    def token_to_piece(self, token, render_special=False):
        """The raw bytes of one token (may be part of a UTF-8 character)."""
        return _text_call(_L.deltallm_token_to_piece, self._h, token,
                          _lib.DETOKENIZE_RENDER_SPECIAL if render_special else 0)

    def detokenize(self, tokens, render_special=False):
        arr = (ctypes.c_int32 * len(tokens))(*tokens)
        return _text_call(_L.deltallm_detokenize, self._h, arr, len(tokens),
                          _lib.DETOKENIZE_RENDER_SPECIAL if render_special else 0).decode("utf-8")

    def detokenizer(self, render_special=False):
        return Detokenizer(self, render_special)

    # chat templates
    def chat_template(self, name=None):
        t = ctypes.c_char_p()
        _check(_L.deltallm_model_chat_template(self._h, name.encode() if name else None, ctypes.byref(t)))
        return t.value.decode()

    def apply_chat_template(self, messages, add_generation_prompt=True, enable_thinking=None, tools=None,
                            template=None, template_kwargs=None):
        """messages: list of dicts (OpenAI style) or (role, content) pairs; tools: JSON text or None;
        template_kwargs: dict (or JSON text) of further template variables."""
        import json
        p = _L.deltallm_chat_default_params()
        p.add_generation_prompt = add_generation_prompt
        p.enable_thinking = -1 if enable_thinking is None else int(bool(enable_thinking))
        if tools is not None:
            p.tools_json = (tools if isinstance(tools, str) else json.dumps(tools)).encode()
        if template is not None:
            p.template_text = template.encode()
        if template_kwargs is not None:
            p.template_kwargs_json = (template_kwargs if isinstance(template_kwargs, str)
                                      else json.dumps(template_kwargs)).encode()
        msgs = [m if isinstance(m, dict) else {"role": m[0], "content": m[1]} for m in messages]
        return _text_call(_L.deltallm_chat_apply_template_json, self._h, json.dumps(msgs).encode(),
                          ctypes.byref(p)).decode("utf-8")

    # factories
    def context(self, **params):
        return Context(self, **params)

    def sampler(self, **params):
        return Sampler(self, **params)


def _context_params(kw):
    p = _L.deltallm_context_default_params()
    for k, v in kw.items():
        if k in ("abort",):
            continue
        if not hasattr(p, k) or k == "size":
            raise TypeError(f"unknown context parameter '{k}'")
        setattr(p, k, v)
    return p


class Context(_Handle):
    """Evaluates batches for up to n_seq sequences (one thread at a time)."""
    _free = "deltallm_context_free"

    def __init__(self, model, n_ctx=0, n_seq=1, n_batch=512, n_threads=0, kv_type=KV_F16, abort=None,
                 n_rollback=0):
        """abort: optional fn() -> bool, checked between micro-batches (True stops the decode).
        n_rollback: keep per-token checkpoints of batches up to this size for seq_rollback."""
        self.model = model  # keeps the model alive
        p = _context_params(dict(n_ctx=n_ctx, n_seq=n_seq, n_batch=n_batch, n_threads=n_threads, kv_type=kv_type,
                                 n_rollback=n_rollback))
        h = ctypes.c_void_p()
        _check(_L.deltallm_context_create(model._h, ctypes.byref(p), ctypes.byref(h)))
        self._h = h
        self._abort = None
        if abort is not None:
            self.set_abort(abort)
        info = _lib.ContextInfo()
        info.size = ctypes.sizeof(info)
        _check(_L.deltallm_context_get_info(self._h, ctypes.byref(info)))
        self.n_ctx, self.n_seq, self.n_batch, self.n_threads = info.n_ctx, info.n_seq, info.n_batch, info.n_threads
        self.n_vocab = info.n_vocab
        self.n_rollback = info.n_rollback

    def set_abort(self, fn):
        self._abort = _lib.AbortCallback(lambda _ud: bool(fn())) if fn is not None else None
        _check(_L.deltallm_context_set_abort_callback(self._h, self._abort or _lib.AbortCallback(), None))

    def set_activation_callback(self, fn):
        """fn(tensor_name: str, expert: int, rows: memoryview of float32 [n_rows][n_cols], n_rows, n_cols),
        called with the rows entering every weight matmul of later decodes (expert -1 unless a stacked
        MoE expert tensor); the rows are valid during the call only. None removes it."""
        def call(_ud, name, expert, rows, n_rows, n_cols):
            buf = (ctypes.c_float * (n_rows * n_cols)).from_address(ctypes.addressof(rows.contents))
            fn(name.decode(), expert, memoryview(buf).cast("B").cast("f"), n_rows, n_cols)
        self._activation = _lib.ActivationCallback(call) if fn is not None else None
        _check(_L.deltallm_context_set_activation_callback(self._h, self._activation or _lib.ActivationCallback(),
                                                           None))

    def memory_plan(self):
        t = ctypes.c_char_p()
        _check(_L.deltallm_context_memory_plan(self._h, ctypes.byref(t)))
        return t.value.decode()

    def memory(self):
        info = _lib.MemoryInfo()
        info.size = ctypes.sizeof(info)
        _check(_L.deltallm_context_get_memory(self._h, ctypes.byref(info)))
        return {name: getattr(info, name) for name, _ in info._fields_ if name != "size"}

    def decode(self, tokens, seq_ids=None, pos=None, logits=None):
        """Evaluates tokens. seq_ids: one id for all or a list (default 0); pos: list or None (continue);
        logits: list of bools or None (the last token only)."""
        n = len(tokens)
        b = _L.deltallm_batch_default_params()
        b.n_tokens = n
        toks = (ctypes.c_int32 * n)(*tokens)
        b.tokens = toks
        if seq_ids is not None:
            ids = [seq_ids] * n if isinstance(seq_ids, int) else list(seq_ids)
            seqs = (ctypes.c_int32 * n)(*ids)
            b.seq_ids = seqs
        if pos is not None:
            ps = (ctypes.c_int64 * n)(*pos)
            b.pos = ps
        if logits is not None:
            ls = (ctypes.c_int8 * n)(*[1 if x else 0 for x in logits])
            b.logits = ls
        _check(_L.deltallm_decode(self._h, ctypes.byref(b)))

    def n_logits(self):
        n = ctypes.c_int32()
        _check(_L.deltallm_get_n_logits(self._h, ctypes.byref(n)))
        return n.value

    def logits(self, i=-1):
        """A copy of logits row i (-1: the last) as array('f')."""
        p = _lib.c_float_p()
        _check(_L.deltallm_get_logits(self._h, i, ctypes.byref(p)))
        out = array.array("f", bytes(self.n_vocab * 4))
        ctypes.memmove(out.buffer_info()[0], p, self.n_vocab * 4)
        return out

    def seq_length(self, seq=0):
        n = ctypes.c_int64()
        _check(_L.deltallm_seq_length(self._h, seq, ctypes.byref(n)))
        return n.value

    def seq_clear(self, seq=-1):
        _check(_L.deltallm_seq_clear(self._h, seq))

    def seq_copy(self, src, dst):
        _check(_L.deltallm_seq_copy(self._h, src, dst))

    def seq_keep(self, seq):
        _check(_L.deltallm_seq_keep(self._h, seq))

    def seq_rollback(self, seq, length):
        """Shortens a sequence to `length` positions, back into its last batch (needs n_rollback)."""
        _check(_L.deltallm_seq_rollback(self._h, seq, length))

    def save_state(self, seq=0):
        """A snapshot of one sequence as bytes."""
        n = ctypes.c_size_t()
        _check(_L.deltallm_seq_state_size(self._h, seq, ctypes.byref(n)))
        buf = ctypes.create_string_buffer(n.value)
        _check(_L.deltallm_seq_state_save(self._h, seq, buf, n.value, ctypes.byref(n)))
        return buf.raw[:n.value]

    def load_state(self, data, seq=0):
        buf = ctypes.create_string_buffer(bytes(data), len(data))
        _check(_L.deltallm_seq_state_load(self._h, seq, buf, len(data)))

    def save_state_file(self, path, seq=0):
        _check(_L.deltallm_seq_state_save_file(self._h, seq, str(path).encode()))

    def load_state_file(self, path, seq=0):
        _check(_L.deltallm_seq_state_load_file(self._h, seq, str(path).encode()))

    # prompt-cache checkpoints: recurrent + conv state at the current length, without the KV rows
    def checkpoint(self, seq=0):
        """A checkpoint of one sequence at its current length, as bytes (small, same size at every length)."""
        n = ctypes.c_size_t()
        _check(_L.deltallm_seq_checkpoint_size(self._h, ctypes.byref(n)))
        buf = ctypes.create_string_buffer(n.value)
        _check(_L.deltallm_seq_checkpoint_save(self._h, seq, buf, n.value, ctypes.byref(n)))
        return buf.raw[:n.value]

    @staticmethod
    def checkpoint_length(data):
        """The length (positions) a checkpoint was taken at."""
        n = ctypes.c_int64()
        buf = ctypes.create_string_buffer(bytes(data), len(data))
        _check(_L.deltallm_seq_checkpoint_length(buf, len(data), ctypes.byref(n)))
        return n.value

    def restore_checkpoint(self, data, seq=0):
        """Truncates the sequence to the checkpoint's length and puts its recurrent state back."""
        buf = ctypes.create_string_buffer(bytes(data), len(data))
        _check(_L.deltallm_seq_checkpoint_restore(self._h, seq, buf, len(data)))


class Sampler(_Handle):
    """The standard chain of kernels.md §7.1 (or an empty chain with chain=True)."""
    _free = "deltallm_sampler_free"

    def __init__(self, model, seed=SEED_RANDOM, temp=0.8, top_k=40, top_p=0.95, min_p=0.05, min_keep=0,
                 penalty_last_n=64, penalty_repeat=1.0, penalty_freq=0.0, penalty_present=0.0, penalize_nl=False,
                 logit_bias=None, chain=False):
        self.model = model
        h = ctypes.c_void_p()
        if chain:
            _check(_L.deltallm_sampler_chain_create(model._h, seed, ctypes.byref(h)))
        else:
            p = _L.deltallm_sampler_default_params()
            p.seed, p.temp, p.top_k, p.top_p, p.min_p, p.min_keep = seed, temp, top_k, top_p, min_p, min_keep
            p.penalty_last_n, p.penalty_repeat = penalty_last_n, penalty_repeat
            p.penalty_freq, p.penalty_present, p.penalize_nl = penalty_freq, penalty_present, penalize_nl
            bias = None
            if logit_bias:
                items = list(logit_bias.items())
                bias = (_lib.LogitBias * len(items))(*[_lib.LogitBias(t, b) for t, b in items])
                p.logit_bias = bias
                p.n_logit_bias = len(items)
            _check(_L.deltallm_sampler_create(model._h, ctypes.byref(p), ctypes.byref(h)))
        self._h = h

    # stages of a hand-built chain
    def add_logit_bias(self, bias):
        items = list(bias.items())
        arr = (_lib.LogitBias * len(items))(*[_lib.LogitBias(t, b) for t, b in items])
        _check(_L.deltallm_sampler_add_logit_bias(self._h, arr, len(items)))
        return self

    def add_penalties(self, last_n=64, repeat=1.0, freq=0.0, present=0.0, penalize_nl=False):
        _check(_L.deltallm_sampler_add_penalties(self._h, last_n, repeat, freq, present, penalize_nl))
        return self

    def add_top_k(self, k):
        _check(_L.deltallm_sampler_add_top_k(self._h, k))
        return self

    def add_top_p(self, p):
        _check(_L.deltallm_sampler_add_top_p(self._h, p))
        return self

    def add_min_p(self, p):
        _check(_L.deltallm_sampler_add_min_p(self._h, p))
        return self

    def add_temperature(self, t):
        _check(_L.deltallm_sampler_add_temperature(self._h, t))
        return self

    def add_greedy(self):
        _check(_L.deltallm_sampler_add_greedy(self._h))
        return self

    def add_dist(self):
        _check(_L.deltallm_sampler_add_dist(self._h))
        return self

    def set_min_keep(self, n):
        _check(_L.deltallm_sampler_set_min_keep(self._h, n))
        return self

    def sample(self, ctx, i=-1):
        t = ctypes.c_int32()
        _check(_L.deltallm_sampler_sample(self._h, ctx._h, i, ctypes.byref(t)))
        return t.value

    def sample_logits(self, logits):
        arr = (ctypes.c_float * len(logits))(*logits)
        t = ctypes.c_int32()
        _check(_L.deltallm_sampler_sample_logits(self._h, arr, len(logits), ctypes.byref(t)))
        return t.value

    def sample_accept(self, ctx, i=-1):
        """sample() and accept() of the token in one call."""
        t = ctypes.c_int32()
        _check(_L.deltallm_sampler_sample_accept(self._h, ctx._h, i, ctypes.byref(t)))
        return t.value

    def accept(self, token):
        _check(_L.deltallm_sampler_accept(self._h, token))

    def accept_tokens(self, tokens):
        """Records a prompt for the penalties (all or nothing)."""
        arr = (ctypes.c_int32 * len(tokens))(*tokens)
        _check(_L.deltallm_sampler_accept_tokens(self._h, arr, len(tokens)))

    def reset(self):
        _check(_L.deltallm_sampler_reset(self._h))

    @property
    def seed(self):
        s = ctypes.c_uint32()
        _check(_L.deltallm_sampler_get_seed(self._h, ctypes.byref(s)))
        return s.value


class Detokenizer(_Handle):
    """Streams text token by token, never splitting a UTF-8 character."""
    _free = "deltallm_detokenizer_free"

    def __init__(self, model, render_special=False):
        self.model = model
        h = ctypes.c_void_p()
        _check(_L.deltallm_detokenizer_create(model._h, _lib.DETOKENIZE_RENDER_SPECIAL if render_special else 0,
                                              ctypes.byref(h)))
        self._h = h

    def push(self, token):
        p = ctypes.c_void_p()
        n = ctypes.c_size_t()
        _check(_L.deltallm_detokenizer_push(self._h, token, ctypes.byref(p), ctypes.byref(n)))
        return ctypes.string_at(p, n.value).decode("utf-8") if n.value else ""

    def flush(self):
        p = ctypes.c_void_p()
        n = ctypes.c_size_t()
        _check(_L.deltallm_detokenizer_flush(self._h, ctypes.byref(p), ctypes.byref(n)))
        return ctypes.string_at(p, n.value).decode("utf-8") if n.value else ""


def generate(model, prompt, n_predict=32, seed=1, n_threads=0, **sampler_params):
    """Yields the text of a completion piece by piece (a convenience for examples)."""
    tokens = model.tokenize(prompt)
    ctx = model.context(n_ctx=len(tokens) + n_predict + 1, n_threads=n_threads)
    sampler = model.sampler(seed=seed, **sampler_params)
    for t in tokens:
        sampler.accept(t)
    out = model.detokenizer()
    ctx.decode(tokens)
    for _ in range(n_predict):
        tok = sampler.sample(ctx)
        sampler.accept(tok)
        if model.is_eog(tok):
            break
        piece = out.push(tok)
        if piece:
            yield piece
        ctx.decode([tok])
    tail = out.flush()
    if tail:
        yield tail
