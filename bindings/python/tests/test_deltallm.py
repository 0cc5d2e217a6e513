"""Tests of the Python bindings against the shared library.

The library is DELTALLM_LIB; the model DELTALLM_TEST_MODEL, or a tiny one
generated with `deltallm make-model` (the binary is DELTALLM_BIN, else
../bin/deltallm beside the library, else `deltallm` on PATH).
"""
import array
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import unittest

import deltallm

_tmp = None
MODEL = None
BIN = None


def _find_bin():
    b = os.environ.get("DELTALLM_BIN")
    if b:
        return b
    lib = os.environ.get("DELTALLM_LIB")
    if lib:
        cand = os.path.join(os.path.dirname(os.path.abspath(lib)), "..", "bin", "deltallm")
        if os.path.exists(cand):
            return cand
    return shutil.which("deltallm")


def setUpModule():
    global _tmp, MODEL, BIN
    _tmp = tempfile.mkdtemp(prefix="deltallm_py_")
    BIN = _find_bin()
    MODEL = os.environ.get("DELTALLM_TEST_MODEL")
    if not MODEL:
        if not BIN:
            raise RuntimeError("set DELTALLM_TEST_MODEL, or DELTALLM_BIN to make a tiny model")
        MODEL = os.path.join(_tmp, "tiny.gguf")
        subprocess.run([BIN, "make-model", "--arch", "qwen35", "--preset", "tiny", "--seed", "1", "-o", MODEL],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tearDownModule():
    shutil.rmtree(_tmp, ignore_errors=True)


def prompt_ids(n, seed=1):
    return [(seed * 7919 + i * 104729) % 300 for i in range(n)]


class LibraryTest(unittest.TestCase):
    def test_version_and_capabilities(self):
        self.assertEqual(deltallm.version(), "0.1.0")
        self.assertGreaterEqual(deltallm.capability(deltallm.CAP_HARDWARE_THREADS), 1)
        self.assertEqual(deltallm.capability(deltallm.CAP_CHAT_TEMPLATES), 1)
        self.assertEqual(deltallm.capability(9999), -1)
        self.assertIn("qwen35moe", deltallm.supported_architectures())

    def test_load_errors_carry_status_and_message(self):
        with self.assertRaises(deltallm.DeltaLLMError) as e:
            deltallm.Model("/nonexistent/model.gguf")
        self.assertEqual(e.exception.status, deltallm.ERR_IO)
        self.assertIn("/nonexistent/model.gguf", e.exception.message)
        bad = os.path.join(_tmp, "bad.gguf")
        with open(bad, "wb") as f:
            f.write(b"GGUF" + b"\xff" * 60)
        with self.assertRaises(deltallm.DeltaLLMError) as e:
            deltallm.Model(bad)
        self.assertEqual(e.exception.status, deltallm.ERR_FORMAT)
        seen = []
        with self.assertRaises(deltallm.DeltaLLMError) as e:
            deltallm.Model(MODEL, progress=lambda f: seen.append(f) or len(seen) < 2)
        self.assertEqual(e.exception.status, deltallm.ERR_CANCELLED)
        self.assertEqual(len(seen), 2)

    def test_abi_and_sampler_variants(self):
        self.assertEqual(deltallm._lib.lib.deltallm_abi_version(), deltallm._lib.ABI_VERSION)
        with deltallm.Model(MODEL) as m:
            with m.context(n_ctx=64, n_threads=1) as c:
                c.decode(prompt_ids(5))
                a = deltallm.Sampler(m, seed=3, penalty_repeat=1.5)
                b = deltallm.Sampler(m, seed=3, penalty_repeat=1.5)
                with self.assertRaises(deltallm.DeltaLLMError):
                    a.accept_tokens([1, 10 ** 6])
                a.accept_tokens(prompt_ids(5))
                for t in prompt_ids(5):
                    b.accept(t)
                ta = a.sample_accept(c)
                tb = b.sample(c)
                b.accept(tb)
                self.assertEqual(ta, tb)

    def test_weights_mapped_or_copied_give_the_same_logits(self):
        with self.assertRaises(ValueError):
            deltallm.Model(MODEL, weights="huge")
        rows = []
        for weights in ("mmap", "copy", "auto"):
            with deltallm.Model(MODEL, weights=weights) as m:
                with m.context(n_ctx=64, n_threads=1) as c:
                    c.decode(prompt_ids(6))
                    rows.append(list(c.logits(-1)))
        self.assertEqual(rows[0], rows[1])
        self.assertEqual(rows[0], rows[2])

    def test_log_callback(self):
        got = []
        deltallm.set_log_callback(lambda level, text: got.append((level, text)))
        try:
            deltallm.set_log_level(0)
            with deltallm.Model(MODEL) as m:
                m.context(n_ctx=64, n_threads=1).close()
        finally:
            deltallm.set_log_callback(None)
            deltallm.set_log_level(1)
        # Creating a context logs its memory plan at debug level.
        self.assertTrue(any(level == 0 and "memory plan" in text for level, text in got), got)
        with self.assertRaises(deltallm.DeltaLLMError):
            deltallm.set_log_level(42)


class ModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = deltallm.Model(MODEL)

    def test_info_and_metadata(self):
        info = self.m.info
        meta = self.m.metadata()
        self.assertEqual(info["architecture"], meta["general.architecture"])
        self.assertEqual(str(info["n_layer"]), meta["qwen35.block_count"])
        self.assertEqual(info["n_vocab"], 1024)
        self.assertGreater(info["weight_bytes"], info["bytes_per_token"] // 2)
        mem = self.m.memory_needed(n_ctx=128, n_seq=2)
        self.assertEqual(mem["total"], mem["kv_cache"] + mem["recurrent_state"] + mem["workspace"])
        with self.m.context(n_ctx=128, n_seq=2) as c:
            self.assertEqual(c.memory()["total"], mem["total"])
            self.assertIn("KV", c.memory_plan())

    def test_tokenize_and_stream_back(self):
        text = "Hello world, the café! <|im_start|>"
        ids = self.m.tokenize(text)
        self.assertEqual(self.m.detokenize(ids, render_special=True), text)
        self.assertLess(len(ids), len(self.m.tokenize(text, parse_special=False)))
        dt = self.m.detokenizer(render_special=True)
        streamed = "".join(dt.push(t) for t in ids) + dt.flush()
        self.assertEqual(streamed, text)
        self.assertEqual(b"".join(self.m.token_to_piece(t, True) for t in ids), text.encode())
        v = self.m.vocab()
        self.assertEqual(self.m.token_text(v["eos"]), "<|endoftext|>")
        self.assertTrue(self.m.is_eog(v["eos"]))
        self.assertEqual(self.m.token_type(v["eos"]), "control")
        self.assertEqual(self.m.tokenize(""), [])
        with self.assertRaises(deltallm.DeltaLLMError) as e:
            self.m.tokenize(b"\xff\xfe")
        self.assertEqual(e.exception.status, deltallm.ERR_INVALID_ARGUMENT)

    def test_chat_template(self):
        self.assertIn("im_start", self.m.chat_template())
        out = self.m.apply_chat_template([("system", "Be brief."), ("user", "Hi")])
        self.assertTrue(out.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"), out)
        out = self.m.apply_chat_template([{"role": "user", "content": None}], add_generation_prompt=False,
                                         template="{{ messages[0].content }}|{{ add_generation_prompt }}")
        self.assertEqual(out, "None|False")
        out = self.m.apply_chat_template([("user", "x")], template="{{ effort }}", template_kwargs={"effort": "low"})
        self.assertEqual(out, "low")
        with self.assertRaises(deltallm.DeltaLLMError) as e:
            self.m.apply_chat_template([("user", "x")], template="{{ raise_exception('stop here') }}")
        self.assertEqual(e.exception.status, deltallm.ERR_FORMAT)
        self.assertIn("stop here", e.exception.message)


class ContextTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = deltallm.Model(MODEL)

    def test_logits_match_the_cli(self):
        # Oracle: the CLI's `run --logits-out` (the engine without this binding).
        if not BIN:
            self.skipTest("no deltallm binary")
        ids = prompt_ids(12)
        out = os.path.join(_tmp, "logits.f32")
        subprocess.run([BIN, "run", "-m", MODEL, "--tokens", ",".join(map(str, ids)), "-n", "0",
                        "--logits-out", out], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        want = array.array("f")
        with open(out, "rb") as f:
            want.frombytes(f.read())
        V = self.m.n_vocab
        self.assertEqual(len(want), len(ids) * V)
        with self.m.context() as c:
            c.decode(ids, logits=[True] * len(ids))
            self.assertEqual(c.n_logits(), len(ids))
            for i in range(len(ids)):
                row = c.logits(i)
                ref = want[i * V:(i + 1) * V]
                err = max(abs(a - b) for a, b in zip(row, ref))
                self.assertLess(err, 1e-4, f"row {i}")

    def test_greedy_generation_is_reproducible_and_seeded_sampling_too(self):
        a = "".join(deltallm.generate(self.m, "Once upon a time", n_predict=12, temp=0, n_threads=1))
        b = "".join(deltallm.generate(self.m, "Once upon a time", n_predict=12, temp=0, n_threads=1))
        self.assertEqual(a, b)
        s1 = "".join(deltallm.generate(self.m, "Once upon a time", n_predict=24, seed=5, n_threads=1))
        s2 = "".join(deltallm.generate(self.m, "Once upon a time", n_predict=24, seed=5, n_threads=1))
        s3 = "".join(deltallm.generate(self.m, "Once upon a time", n_predict=24, seed=6, n_threads=1))
        self.assertEqual(s1, s2)
        self.assertNotEqual(s1, s3)

    def test_snapshot_into_another_sequence_and_a_file(self):
        with self.m.context(n_ctx=128, n_seq=2, n_threads=1) as c:
            c.decode(prompt_ids(20), seq_ids=0)
            snap = c.save_state(0)
            c.load_state(snap, seq=1)
            self.assertEqual(c.seq_length(1), 20)
            path = os.path.join(_tmp, "s.state")
            c.save_state_file(path, seq=0)
            c.decode([42], seq_ids=0)
            want = c.logits()
            c.decode([42], seq_ids=1)
            self.assertEqual(c.logits(), want)
        with self.m.context(n_ctx=64, n_threads=1) as c2:
            c2.load_state_file(path)
            c2.decode([42])
            self.assertEqual(c2.logits(), want)
            with self.assertRaises(deltallm.DeltaLLMError) as e:
                c2.load_state(snap[:-3])
            self.assertEqual(e.exception.status, deltallm.ERR_FORMAT)

    def test_rollback_drops_drafts(self):
        ids = prompt_ids(10)
        with self.m.context(n_ctx=64, n_threads=1, n_rollback=4) as c, \
                self.m.context(n_ctx=64, n_threads=1) as ref:
            self.assertEqual(c.n_rollback, 4)
            c.decode(ids)
            c.decode([5, 6, 7, 8])
            with self.assertRaises(deltallm.DeltaLLMError) as e:
                c.seq_rollback(0, 10)  # before the last batch
            self.assertEqual(e.exception.status, deltallm.ERR_NOT_AVAILABLE)
            c.seq_rollback(0, 12)  # keep 5, 6
            self.assertEqual(c.seq_length(0), 12)
            c.decode([9])
            ref.decode(ids)
            ref.decode([5, 6])
            ref.decode([9])
            self.assertEqual(c.logits(), ref.logits())
        self.assertGreater(self.m.memory_needed(n_ctx=64, n_rollback=4)["checkpoints"], 0)

    def test_checkpoint_goes_back_to_a_prefix(self):
        ids = prompt_ids(10)
        with self.m.context(n_ctx=64, n_threads=1) as c, self.m.context(n_ctx=64, n_threads=1) as ref:
            c.decode(ids)
            cp = c.checkpoint()
            self.assertEqual(deltallm.Context.checkpoint_length(cp), 10)
            c.decode([5, 6, 7])
            c.restore_checkpoint(cp)
            self.assertEqual(c.seq_length(0), 10)
            c.decode([9])
            ref.decode(ids)
            ref.decode([9])
            self.assertEqual(c.logits(), ref.logits())
            with self.assertRaises(deltallm.DeltaLLMError) as e:
                c.restore_checkpoint(cp[:-1])
            self.assertEqual(e.exception.status, deltallm.ERR_FORMAT)

    def test_abort_then_continue(self):
        ids = prompt_ids(64, 3)
        calls = []
        with self.m.context(n_ctx=128, n_batch=8, n_threads=1, abort=lambda: calls.append(1) and False) as ref:
            ref.decode(ids)
            want = ref.logits()
        total = len(calls)
        self.assertGreaterEqual(total, 8)
        for stop in (2, total // 2, total):
            calls = []
            with self.m.context(n_ctx=128, n_batch=8, n_threads=1, abort=lambda: calls.append(1) or len(calls) == stop) as c:
                with self.assertRaises(deltallm.DeltaLLMError) as e:
                    c.decode(ids)
                self.assertEqual(e.exception.status, deltallm.ERR_ABORTED)
                self.assertEqual(len(calls), stop)
                done = c.seq_length(0)
                self.assertTrue(done % 8 == 0 and done < 64, done)
                c.set_abort(None)
                c.decode(ids[done:])
                self.assertEqual(c.logits(), want)

    def test_activation_callback_sees_every_matmul_input(self):
        ids = prompt_ids(20, 5)
        seen = []

        def on_rows(name, expert, rows, n_rows, n_cols):
            self.assertEqual(len(rows), n_rows * n_cols)
            seen.append((name, expert, n_rows, n_cols, sum(x * x for x in rows[:n_cols])))
        with self.m.context(n_ctx=64, n_threads=1) as c:
            c.set_activation_callback(on_rows)
            c.decode(ids)
            c.set_activation_callback(None)
            c.decode([ids[0]], pos=[0])
        self.assertEqual(seen[0][0], "blk.0.attn_qkv.weight")
        self.assertEqual(seen[0][1:3], (-1, 20))
        self.assertGreater(seen[0][4], 0.0)
        names = {s[0] for s in seen}
        self.assertTrue("output.weight" in names or "token_embd.weight" in names, names)  # the head, tied or not
        self.assertEqual(len([s for s in seen if s[0] == "blk.0.attn_qkv.weight"]), 1)  # nothing after removal

    def test_bad_batches(self):
        with self.m.context(n_ctx=16) as c:
            with self.assertRaises(deltallm.DeltaLLMError) as e:
                c.logits()
            self.assertEqual(e.exception.status, deltallm.ERR_INVALID_ARGUMENT)
            with self.assertRaises(deltallm.DeltaLLMError) as e:
                c.decode([99999])
            self.assertEqual(e.exception.status, deltallm.ERR_INVALID_ARGUMENT)
            with self.assertRaises(deltallm.DeltaLLMError) as e:
                c.decode(prompt_ids(17))
            self.assertEqual(e.exception.status, deltallm.ERR_CONTEXT_FULL)
            self.assertEqual(c.seq_length(0), 0)
            with self.assertRaises(deltallm.DeltaLLMError) as e:
                c.decode([1], seq_ids=3)
            self.assertEqual(e.exception.status, deltallm.ERR_INVALID_ARGUMENT)

    def test_two_threads_share_the_model(self):
        def run(ids, out):
            with self.m.context(n_ctx=64, n_threads=1) as c:
                c.decode(ids)
                out.append(c.logits())
                c.decode([7])
                out.append(c.logits())

        pa, pb = prompt_ids(20, 1), prompt_ids(15, 2)
        ra, rb, ta, tb = [], [], [], []
        run(pa, ra)
        run(pb, rb)
        threads = [threading.Thread(target=run, args=(pa, ta)), threading.Thread(target=run, args=(pb, tb))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(ta, ra)
        self.assertEqual(tb, rb)

    def test_hand_built_greedy_chain_takes_the_best_usable_token(self):
        with self.m.context(n_ctx=64, n_threads=1) as c:
            c.decode(prompt_ids(5))
            row = c.logits()
            s = self.m.sampler(chain=True, seed=1).add_greedy()
            tok = s.sample(c)
            usable = [i for i in range(len(row)) if self.m.token_type(i) != "unused"]
            best = max(usable, key=lambda i: (row[i], -i))
            self.assertEqual(tok, best)
            # A bias of -inf removes it; the next best wins.
            s2 = self.m.sampler(chain=True, seed=1).add_logit_bias({best: float("-inf")}).add_greedy()
            second = max((i for i in usable if i != best), key=lambda i: (row[i], -i))
            self.assertEqual(s2.sample_logits(row), second)
            self.assertEqual(self.m.sampler(seed=77).seed, 77)
            with self.assertRaises(deltallm.DeltaLLMError):
                s.add_top_k(3)  # after a selecting stage


if __name__ == "__main__":
    unittest.main()
