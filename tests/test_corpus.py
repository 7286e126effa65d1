"""Corpora, splits, uploads and the unknown-character policy."""

import hashlib

import pytest

from lstm_core.corpus import MOLIERE_PATH, CorpusError, Vocab, decode_upload, load_corpus


def test_bundled_corpus_is_the_seed_notebooks_text():
    digest = hashlib.sha256(MOLIERE_PATH.read_bytes()).hexdigest()
    assert digest == "9589b888061b947f572349272728147e6de1c34887a1298c92563e7cb1f10d28"


def test_seed_split_is_the_notebooks_split():
    corpus = load_corpus("seed")
    assert len(corpus.train_text) == 90_000 and len(corpus.valid_text) == 10_000
    assert len(corpus.vocab) == 76
    assert "".join(corpus.vocab.chars).startswith("\n !'(),-.:;?ABC")


def test_full_split_is_in_order():
    corpus = load_corpus("full")
    assert len(corpus.train_text) + len(corpus.valid_text) == 1_687_290
    assert len(corpus.vocab) == 85
    assert corpus.valid_text.startswith(MOLIERE_PATH.read_text(encoding="utf-8")[len(corpus.train_text):][:50])


def test_vocab_round_trip():
    vocab = Vocab.from_text("abc\n")
    assert vocab.decode(vocab.encode("cab\n")) == "cab\n"


@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    (b"\x00\x01\x02" * 1000, "binary"),
    ("é".encode("latin-1") * 2000, "not valid UTF-8"),
    (b"too short", "at least"),
    ("".join(chr(0x4E00 + i) for i in range(1200)).encode() * 2, "distinct characters"),
])
def test_bad_uploads_are_refused_with_a_reason(data, message):
    with pytest.raises(CorpusError, match=message):
        decode_upload(data)


def test_good_upload_is_accepted():
    text = decode_upload(("Le chat dort. " * 200).encode("utf-8-sig").replace(b"dort", b"dort\r\n"))
    assert "\r" not in text and text.startswith("Le chat")


def test_unknown_path_is_refused():
    with pytest.raises(CorpusError, match="No corpus"):
        load_corpus("/nonexistent/file.txt")


def test_unknown_character_policy():
    vocab = Vocab.from_text("abcde ABC'\n")
    cleaned, replaced = vocab.clean("Àb’c€")
    assert cleaned == "Ab'c " and replaced == {"À": "A", "’": "'", "€": " "}
    assert len(vocab.encode("ñ")) == 1


def test_encode_tensor_is_encode_vectorised():
    vocab = Vocab("abc \n")
    text = "abc\u00e9 \u201cca\u201d\nb" * 3  # known, accented and typographic characters
    assert vocab.encode_tensor(text).tolist() == vocab.encode(text)
    assert vocab.encode_tensor("").tolist() == []


def test_the_bundled_corpus_and_its_encoding_are_made_once_and_shared():
    first, second = load_corpus("seed"), load_corpus("seed")
    assert first is second and first.ids("train") is second.ids("train")
    assert first.ids("valid").tolist() == first.vocab.encode(first.valid_text)
