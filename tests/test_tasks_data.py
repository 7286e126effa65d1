"""The seed tasks' readers: CoNLL-U for the tagger, text,label CSV for the classifier, and the shipped data."""

import pytest

from lstm_core.tasks.data import (IMDB_TRAIN, UPOS_TAGS, TaskDataError, TokenVocab, clean_review, load_imdb_sample,
                                  load_treebank, read_conllu, read_labelled_csv, split_upload, tokenize)

CONLLU = """# sent_id = 1
# text = I don't know.
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\t_\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
3.1\tknow\tknow\tVERB\tVB\t_\t_\t_\t_\t_
4\tknow\tknow\tVERB\tVB\t_\t0\troot\t_\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

1\tHello\thello\tINTJ\tUH\t_\t0\troot\t_\t_
"""


def test_conllu_reads_words_and_universal_tags_skipping_ranges_and_empty_nodes():
    sentences = read_conllu(CONLLU)
    assert [s.words for s in sentences] == [["I", "do", "n't", "know", "."], ["Hello"]]
    assert sentences[0].tags == ["PRON", "AUX", "PART", "VERB", "PUNCT"]


@pytest.mark.parametrize("line, why", [
    ("1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_", "9 tab-separated fields"),
    ("x\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_", "not a word number"),
    ("1\tI\tI\t_\tPRP\t_\t3\tnsubj\t_\t_", "UPOS tag is missing"),
])
def test_a_malformed_conllu_line_is_refused_with_its_line_number(line, why):
    text = "# a comment\n1\tA\ta\tDET\tDT\t_\t0\troot\t_\t_\n" + line + "\n"
    with pytest.raises(TaskDataError) as caught:
        read_conllu(text, "corpus.conllu")
    assert str(caught.value).startswith("Line 3 of corpus.conllu") and why in str(caught.value)


def test_empty_binary_and_non_utf8_conllu_files_are_refused():
    with pytest.raises(TaskDataError, match="empty"):
        read_conllu(b"", "a.conllu")
    with pytest.raises(TaskDataError, match="binary"):
        read_conllu(b"\x00\x01\x02", "a.conllu")
    with pytest.raises(TaskDataError, match="Line 2 of a.conllu is not UTF-8"):
        read_conllu(b"# ok\n1\t\xff\n", "a.conllu")
    with pytest.raises(TaskDataError, match="no sentences"):
        read_conllu("# only a comment\n", "a.conllu")


def test_shipped_treebank_has_the_documented_splits_and_tags():
    train, test = load_treebank("train"), load_treebank("test")
    assert (len(train), len(test)) == (2001, 2077)
    assert sum(len(s.words) for s in test) == 25094
    assert {t for s in train + test for t in s.tags} <= set(UPOS_TAGS)
    assert all(len(s.words) == len(s.tags) for s in train)


def test_csv_reader_maps_labels_and_cleans_markup():
    data = read_labelled_csv('review,sentiment\n"Great film.<br /><br />Loved it &amp; more",positive\n'
                             'awful,negative\n"so, so bad",negative\n')
    assert data.label_names == ["negative", "positive"]
    assert data.labels == [1, 0, 0]
    assert data.texts[0] == "Great film. Loved it & more"
    headerless = read_labelled_csv("good stuff,1\nbad stuff,0\n")
    assert headerless.texts == ["good stuff", "bad stuff"] and headerless.label_names == ["0", "1"]


@pytest.mark.parametrize("body, message", [
    ("text,label\na,pos\nb,neg,extra\n", "Line 3 of reviews.csv has 3 columns"),
    ("text,label\na,pos\n,neg\n", "Line 3 of reviews.csv: the text is empty"),
    ("text,label\na,pos\nb,\n", "Line 3 of reviews.csv: the label is empty"),
    ("text,label\na,pos\nb,pos\n", "only one label"),
    ("text,label\n", "no rows"),
])
def test_malformed_csv_files_are_refused_with_a_reason(body, message):
    with pytest.raises(TaskDataError, match=message):
        read_labelled_csv(body.encode(), "reviews.csv")


def test_csv_with_too_many_labels_is_refused():
    body = "\n".join(f"text {k},label {k}" for k in range(30))
    with pytest.raises(TaskDataError, match="30 different labels"):
        read_labelled_csv(body, "wide.csv")


def test_shipped_imdb_sample_splits_1600_and_400_without_markup():
    train, held_out = load_imdb_sample()
    assert (len(train), len(held_out)) == (IMDB_TRAIN, 400)
    assert train.label_names == ["negative", "positive"]
    assert not any("<br" in t for t in train.texts + held_out.texts)
    assert 0.4 < sum(held_out.labels) / 400 < 0.6


def test_tokenize_lowercases_and_keeps_contractions():
    assert tokenize("It's <br />GREAT!! Isn't it?") == ["it's", "great", "!", "!", "isn't", "it", "?"]
    assert clean_review("a<br />b") == "a b"


def test_split_upload_holds_out_the_last_fifth_and_refuses_tiny_files():
    data = read_labelled_csv("\n".join(f"text {k},{k % 2}" for k in range(20)))
    train, held_out = split_upload(data)
    assert (len(train), len(held_out)) == (16, 4) and held_out.texts[0] == "text 16"
    with pytest.raises(TaskDataError, match="at least 10"):
        split_upload(data.subset(0, 5))


def test_token_vocab_reserves_padding_and_unknown():
    vocab = TokenVocab.build([["b", "a", "b"], ["c"]], min_freq=1)
    assert vocab.tokens[:3] == ["<pad>", "<unk>", "b"]
    assert vocab.encode(["b", "zzz"]) == [2, 1]
    assert len(TokenVocab.build([["b", "a", "b"]], min_freq=2)) == 3


def test_a_csv_sorted_by_label_trains_on_every_label():
    """A file sorted by label (all negatives, then all positives) once trained on one class only and reported
    0.0%: the split is made within each label, so both parts hold both labels in their share."""
    rows = [f"bad {k},negative" for k in range(30)] + [f"good {k},positive" for k in range(10)]
    data = read_labelled_csv("\n".join(rows))
    train, held_out = split_upload(data)
    assert (len(train), len(held_out)) == (32, 8)
    assert sorted(set(train.labels)) == sorted(set(held_out.labels)) == [0, 1]
    assert train.labels.count(data.label_names.index("positive")) == 8
    assert held_out.texts == [f"bad {k}" for k in range(24, 30)] + ["good 8", "good 9"], "the file's order kept"
    with pytest.raises(TaskDataError, match="'rare' has 1 row"):
        split_upload(read_labelled_csv("\n".join([f"t {k},common" for k in range(12)] + ["t,rare"])))


def test_a_csv_with_too_many_rows_is_refused_while_it_is_read():
    body = "\n".join(f"text {k},{k % 2}" for k in range(60))
    with pytest.raises(TaskDataError, match="more than 50 rows; at most 50 are accepted"):
        read_labelled_csv(body, "big.csv", max_rows=50)
    assert len(read_labelled_csv(body, "big.csv", max_rows=60)) == 60
