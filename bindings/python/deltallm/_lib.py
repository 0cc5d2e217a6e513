"""ctypes declarations of include/deltallm.h (kept in the header's order).

The library is the one named by the DELTALLM_LIB environment variable when it
is set, else libdeltallm.so found by the system loader.
"""
import ctypes
import ctypes.util
import os

c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_int64_p = ctypes.POINTER(ctypes.c_int64)
c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
c_float_p = ctypes.POINTER(ctypes.c_float)

# deltallm_status
OK = 0
ERR_INVALID_ARGUMENT = 1
ERR_IO = 2
ERR_FORMAT = 3
ERR_OUT_OF_MEMORY = 4
ERR_CANCELLED = 5
ERR_ABORTED = 6
ERR_BUFFER_TOO_SMALL = 7
ERR_NOT_AVAILABLE = 8
ERR_CONTEXT_FULL = 9
ERR_INTERNAL = 10

# deltallm_capability
CAP_HARDWARE_THREADS = 1
CAP_AVX2 = 2
CAP_AVX512 = 3
CAP_AVX512_VNNI = 4
CAP_AVX512_BF16 = 5
CAP_MMAP = 6
CAP_CHAT_TEMPLATES = 7
CAP_STATE_FILES = 8
CAP_MAX_SEQUENCES = 9
CAP_GPU = 10

TOKENIZE_ADD_SPECIAL = 1
TOKENIZE_PARSE_SPECIAL = 2
DETOKENIZE_RENDER_SPECIAL = 1
SEED_RANDOM = 0xFFFFFFFF

KV_F16 = 0
KV_F32 = 1

# deltallm_token_type
TOKEN_TYPES = {0: "undefined", 1: "normal", 2: "unknown", 3: "control", 4: "user_defined", 5: "unused", 6: "byte"}

LogCallback = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
ProgressCallback = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_float, ctypes.c_void_p)
AbortCallback = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p)
ActivationCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
                                      ctypes.POINTER(ctypes.c_float), ctypes.c_int32, ctypes.c_int32)


class ModelParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("progress_callback", ProgressCallback),
                ("progress_user_data", ctypes.c_void_p), ("vocab_only", ctypes.c_bool),
                ("weight_memory", ctypes.c_int32)]


class ModelInfo(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("architecture", ctypes.c_char_p), ("name", ctypes.c_char_p),
                ("description", ctypes.c_char_p), ("vocab_only", ctypes.c_bool), ("n_vocab", ctypes.c_int32),
                ("n_ctx_train", ctypes.c_int64), ("n_embd", ctypes.c_int64), ("n_layer", ctypes.c_int32),
                ("n_layer_mtp", ctypes.c_int32), ("n_recurrent_layers", ctypes.c_int32),
                ("n_attention_layers", ctypes.c_int32), ("n_head", ctypes.c_int32), ("n_head_kv", ctypes.c_int32),
                ("head_dim", ctypes.c_int32), ("n_expert", ctypes.c_int32), ("n_expert_used", ctypes.c_int32),
                ("n_params", ctypes.c_uint64), ("weight_bytes", ctypes.c_uint64),
                ("bytes_per_token", ctypes.c_uint64), ("file_size", ctypes.c_uint64)]


class MemoryInfo(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("weights", ctypes.c_uint64), ("kv_cache", ctypes.c_uint64),
                ("recurrent_state", ctypes.c_uint64), ("workspace", ctypes.c_uint64), ("total", ctypes.c_uint64),
                ("state_per_seq", ctypes.c_uint64), ("checkpoints", ctypes.c_uint64)]


class VocabInfo(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_tokens", ctypes.c_int32), ("bos", ctypes.c_int32),
                ("eos", ctypes.c_int32), ("eot", ctypes.c_int32), ("pad", ctypes.c_int32),
                ("newline", ctypes.c_int32), ("add_bos", ctypes.c_bool), ("add_eos", ctypes.c_bool),
                ("tokenizer_model", ctypes.c_char_p), ("pre_type", ctypes.c_char_p)]


class ChatMessage(ctypes.Structure):
    _fields_ = [("role", ctypes.c_char_p), ("content", ctypes.c_char_p)]


class ChatParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("add_generation_prompt", ctypes.c_bool),
                ("enable_thinking", ctypes.c_int32), ("tools_json", ctypes.c_char_p),
                ("template_text", ctypes.c_char_p),
                ("template_kwargs_json", ctypes.c_char_p)]


class ContextParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_ctx", ctypes.c_int64), ("n_seq", ctypes.c_int32),
                ("n_batch", ctypes.c_int32), ("n_threads", ctypes.c_int32), ("kv_type", ctypes.c_int),
                ("abort_callback", AbortCallback), ("abort_user_data", ctypes.c_void_p),
                ("n_rollback", ctypes.c_int32)]


class ContextInfo(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_ctx", ctypes.c_int64), ("n_seq", ctypes.c_int32),
                ("n_batch", ctypes.c_int32), ("n_threads", ctypes.c_int32), ("kv_type", ctypes.c_int),
                ("n_vocab", ctypes.c_int32), ("n_rollback", ctypes.c_int32)]


class Batch(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_tokens", ctypes.c_int32), ("tokens", c_int32_p),
                ("pos", c_int64_p), ("seq_ids", c_int32_p), ("logits", ctypes.POINTER(ctypes.c_int8))]


class LogitBias(ctypes.Structure):
    _fields_ = [("token", ctypes.c_int32), ("bias", ctypes.c_float)]


class SamplerParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("seed", ctypes.c_uint32), ("temp", ctypes.c_float),
                ("top_k", ctypes.c_int32), ("top_p", ctypes.c_float), ("min_p", ctypes.c_float),
                ("min_keep", ctypes.c_int32), ("penalty_last_n", ctypes.c_int32),
                ("penalty_repeat", ctypes.c_float), ("penalty_freq", ctypes.c_float),
                ("penalty_present", ctypes.c_float), ("penalize_nl", ctypes.c_bool),
                ("logit_bias", ctypes.POINTER(LogitBias)), ("n_logit_bias", ctypes.c_size_t)]


def _load():
    path = os.environ.get("DELTALLM_LIB")
    if not path:
        path = ctypes.util.find_library("deltallm") or "libdeltallm.so.0"
    return ctypes.CDLL(path)


lib = _load()

_S = ctypes.c_int  # deltallm_status
_P = ctypes.c_void_p
_SIGNATURES = {
    "deltallm_version": (ctypes.c_char_p, []),
    "deltallm_abi_version": (ctypes.c_int32, []),
    "deltallm_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    "deltallm_last_error": (ctypes.c_char_p, []),
    "deltallm_capability_value": (ctypes.c_int64, [ctypes.c_int]),
    "deltallm_supported_architectures": (ctypes.c_char_p, []),
    "deltallm_set_log_callback": (None, [LogCallback, _P]),
    "deltallm_set_log_level": (_S, [ctypes.c_int]),
    "deltallm_model_default_params": (ModelParams, []),
    "deltallm_model_load": (_S, [ctypes.c_char_p, ctypes.POINTER(ModelParams), ctypes.POINTER(_P)]),
    "deltallm_model_free": (None, [_P]),
    "deltallm_model_get_info": (_S, [_P, ctypes.POINTER(ModelInfo)]),
    "deltallm_model_meta_count": (_S, [_P, c_int32_p]),
    "deltallm_model_meta_key": (_S, [_P, ctypes.c_int32, ctypes.POINTER(ctypes.c_char_p)]),
    "deltallm_model_meta_value": (_S, [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, c_size_t_p]),
    "deltallm_model_memory_needed": (_S, [_P, ctypes.POINTER(ContextParams), ctypes.POINTER(MemoryInfo)]),
    "deltallm_model_get_vocab_info": (_S, [_P, ctypes.POINTER(VocabInfo)]),
    "deltallm_token_get_text": (_S, [_P, ctypes.c_int32, ctypes.POINTER(ctypes.c_char_p)]),
    "deltallm_token_get_type": (_S, [_P, ctypes.c_int32, ctypes.POINTER(ctypes.c_int)]),
    "deltallm_token_is_eog": (_S, [_P, ctypes.c_int32, ctypes.POINTER(ctypes.c_bool)]),
    "deltallm_tokenize": (_S, [_P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32, c_int32_p, ctypes.c_size_t,
                               c_size_t_p]),
    "deltallm_token_to_piece": (_S, [_P, ctypes.c_int32, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t,
                                     c_size_t_p]),
    "deltallm_detokenize": (_S, [_P, c_int32_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t,
                                 c_size_t_p]),
    "deltallm_detokenizer_create": (_S, [_P, ctypes.c_uint32, ctypes.POINTER(_P)]),
    "deltallm_detokenizer_push": (_S, [_P, ctypes.c_int32, ctypes.POINTER(_P), c_size_t_p]),
    "deltallm_detokenizer_flush": (_S, [_P, ctypes.POINTER(_P), c_size_t_p]),
    "deltallm_detokenizer_free": (None, [_P]),
    "deltallm_model_chat_template": (_S, [_P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]),
    "deltallm_chat_default_params": (ChatParams, []),
    "deltallm_chat_apply_template": (_S, [_P, ctypes.POINTER(ChatMessage), ctypes.c_size_t,
                                          ctypes.POINTER(ChatParams), ctypes.c_char_p, ctypes.c_size_t, c_size_t_p]),
    "deltallm_chat_apply_template_json": (_S, [_P, ctypes.c_char_p, ctypes.POINTER(ChatParams), ctypes.c_char_p,
                                               ctypes.c_size_t, c_size_t_p]),
    "deltallm_context_default_params": (ContextParams, []),
    "deltallm_context_create": (_S, [_P, ctypes.POINTER(ContextParams), ctypes.POINTER(_P)]),
    "deltallm_context_free": (None, [_P]),
    "deltallm_context_get_info": (_S, [_P, ctypes.POINTER(ContextInfo)]),
    "deltallm_context_get_memory": (_S, [_P, ctypes.POINTER(MemoryInfo)]),
    "deltallm_context_memory_plan": (_S, [_P, ctypes.POINTER(ctypes.c_char_p)]),
    "deltallm_context_set_abort_callback": (_S, [_P, AbortCallback, _P]),
    "deltallm_context_set_activation_callback": (_S, [_P, ActivationCallback, _P]),
    "deltallm_batch_default_params": (Batch, []),
    "deltallm_decode": (_S, [_P, ctypes.POINTER(Batch)]),
    "deltallm_get_logits": (_S, [_P, ctypes.c_int32, ctypes.POINTER(c_float_p)]),
    "deltallm_get_n_logits": (_S, [_P, c_int32_p]),
    "deltallm_seq_length": (_S, [_P, ctypes.c_int32, c_int64_p]),
    "deltallm_seq_clear": (_S, [_P, ctypes.c_int32]),
    "deltallm_seq_copy": (_S, [_P, ctypes.c_int32, ctypes.c_int32]),
    "deltallm_seq_keep": (_S, [_P, ctypes.c_int32]),
    "deltallm_seq_rollback": (_S, [_P, ctypes.c_int32, ctypes.c_int64]),
    "deltallm_seq_state_size": (_S, [_P, ctypes.c_int32, c_size_t_p]),
    "deltallm_seq_state_save": (_S, [_P, ctypes.c_int32, _P, ctypes.c_size_t, c_size_t_p]),
    "deltallm_seq_state_load": (_S, [_P, ctypes.c_int32, _P, ctypes.c_size_t]),
    "deltallm_seq_state_save_file": (_S, [_P, ctypes.c_int32, ctypes.c_char_p]),
    "deltallm_seq_state_load_file": (_S, [_P, ctypes.c_int32, ctypes.c_char_p]),
    "deltallm_seq_checkpoint_size": (_S, [_P, c_size_t_p]),
    "deltallm_seq_checkpoint_save": (_S, [_P, ctypes.c_int32, _P, ctypes.c_size_t, c_size_t_p]),
    "deltallm_seq_checkpoint_length": (_S, [_P, ctypes.c_size_t, c_int64_p]),
    "deltallm_seq_checkpoint_restore": (_S, [_P, ctypes.c_int32, _P, ctypes.c_size_t]),
    "deltallm_sampler_default_params": (SamplerParams, []),
    "deltallm_sampler_create": (_S, [_P, ctypes.POINTER(SamplerParams), ctypes.POINTER(_P)]),
    "deltallm_sampler_chain_create": (_S, [_P, ctypes.c_uint32, ctypes.POINTER(_P)]),
    "deltallm_sampler_add_logit_bias": (_S, [_P, ctypes.POINTER(LogitBias), ctypes.c_size_t]),
    "deltallm_sampler_add_penalties": (_S, [_P, ctypes.c_int32, ctypes.c_float, ctypes.c_float, ctypes.c_float,
                                            ctypes.c_bool]),
    "deltallm_sampler_add_top_k": (_S, [_P, ctypes.c_int32]),
    "deltallm_sampler_add_top_p": (_S, [_P, ctypes.c_float]),
    "deltallm_sampler_add_min_p": (_S, [_P, ctypes.c_float]),
    "deltallm_sampler_add_temperature": (_S, [_P, ctypes.c_float]),
    "deltallm_sampler_add_greedy": (_S, [_P]),
    "deltallm_sampler_add_dist": (_S, [_P]),
    "deltallm_sampler_set_min_keep": (_S, [_P, ctypes.c_int32]),
    "deltallm_sampler_sample": (_S, [_P, _P, ctypes.c_int32, c_int32_p]),
    "deltallm_sampler_sample_logits": (_S, [_P, c_float_p, ctypes.c_size_t, c_int32_p]),
    "deltallm_sampler_accept": (_S, [_P, ctypes.c_int32]),
    "deltallm_sampler_sample_accept": (_S, [_P, _P, ctypes.c_int32, c_int32_p]),
    "deltallm_sampler_accept_tokens": (_S, [_P, c_int32_p, ctypes.c_size_t]),
    "deltallm_sampler_reset": (_S, [_P]),
    "deltallm_sampler_get_seed": (_S, [_P, ctypes.POINTER(ctypes.c_uint32)]),
    "deltallm_sampler_free": (None, [_P]),
}

# The binary interface these declarations describe (DELTALLM_ABI_VERSION of deltallm.h).
ABI_VERSION = 1

if not hasattr(lib, "deltallm_abi_version"):
    raise ImportError("the deltallm library at %s is older than this binding (no deltallm_abi_version)" % lib._name)
lib.deltallm_abi_version.restype = ctypes.c_int32
lib.deltallm_abi_version.argtypes = []
if lib.deltallm_abi_version() != ABI_VERSION:
    raise ImportError("the deltallm library at %s has ABI version %d, this binding was written for %d"
                      % (lib._name, lib.deltallm_abi_version(), ABI_VERSION))

for _name, (_res, _args) in _SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args
