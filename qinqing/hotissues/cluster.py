"""Hot-issue clustering: similar texts from many senders grouped into one class of problem (pure, no models).

The steps, for a period's texts (demands, or public messages read from a file):

1. Every text is normalised by the text model (qinqing.textmodel.normalize: OpenCC t2s, widths, anonymised
   place letters) and its title segmented with the text model's tokenizer (jieba with the administrators'
   dictionary, without the HMM pass: segmenting whole contents would cost most of the time budget, and the
   character view below reads the contents).
2. Two TF-IDF views, stacked and L2-normalised: the title's words (weight 0.8) and character bigrams of the
   title, twice, and the start of the content (weight 0.6), each sublinear, features in more than 30% of the
   texts dropped.
3. Blocking: above `BLOCK` texts, a 64-dimension TruncatedSVD and MiniBatchKMeans put similar texts in the same
   block of about `BLOCK` (a block still too large is split again), so that no step is quadratic in the whole
   period.
4. Within a block, average-linkage agglomerative clustering on cosine distance, cut at `1 - THRESHOLD`: every
   pair of texts in a cluster is on average at least `THRESHOLD` similar (no chains of look-alikes).
5. Clusters with at least `MIN_SIZE` texts from at least `MIN_SENDERS` different senders are kept; kept
   clusters whose centroids are at least `MERGE` similar (split across blocks) are merged; a cluster whose
   centre has no key term outside the stop words (texts alike only in their phrasing) is dropped.

`heat()` is the score the leaders' page documents; `label()` the generated title.
"""

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2

from qinqing.textmodel.normalize import dictionary, normalize

SEED = 20261203
THRESHOLD = 0.20  # average cosine similarity inside a cluster (tuned on 附件3 and small districts)
MERGE = 0.55  # centroid similarity above which two kept clusters are one issue
MIN_SIZE = 3
MIN_SENDERS = 2
BLOCK = 2000
ONE_BLOCK = 5000  # up to this many texts are clustered in one block (a 5,000² similarity matrix: 100 MB)
CONTENT_CHARS = 200  # the start of a long text says what it is about; the rest costs time, not precision
WORD_WEIGHT, CHAR_WEIGHT = 0.6, 0.8
REPRESENTATIVES = 3
TERMS = 3

# Words that say nothing about which problem it is (how people write to the government).
STOPWORDS = frozenset("""
问题 反映 希望 请求 要求 关于 相关 部门 领导 政府 您好 你好 谢谢 感谢 我们 你们 他们 本人 现在 目前 已经 没有
一个 这个 那个 什么 怎么 为什么 如何 是否 可以 能否 能够 进行 情况 咨询 建议 投诉 请问 处理 解决 尽快 及时 严重
工作 单位 有关 公司 企业 市民 群众 居民 个人 存在 导致 造成 影响 需要 一直 还是 但是 因为 所以 如果 这样 以及
而且 并且 或者 没有 不能 不是 就是 只是 还有 这些 那些 多次 很多 非常 特别 一下 一些 时候 之后 以后 以前 今年
去年 年月 日前 近日 最近 同志 先生 女士 市委 区委 县委 书记 市长 区长 县长 局长 书记 信箱 留言 回复 答复 申请
附近 出现 何时 事宜 改为 一系列 为何 多久 到底 能不能 可不可以 一点 有没有 是不是 怎么办 怎样 哪里 关注 看看 不要
""".split())
_PLACE = re.compile(r"^.{1,12}(小区|花园|广场|大道|路|街|巷|村|镇|乡|社区|学院|学校|大学|中学|小学|医院|公园|市场|"
                    r"园区|工业园|车站|大厦|公寓|新城|城|苑|湾|家园|山庄|公馆|街道)$")
_NOT_PLACE = re.compile(r"(政府|人民|委员会|管理局|公司)")
# Anonymised places of public data ("A市", "A3区", "B7县") go whole: normalize drops only the letter, and the
# bare "市"/"区" left would glue onto the next word ("市伊景园").
_ANON = re.compile(r"(?<![A-Za-z])[A-Z]\d{0,3}[省市区县]")
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"[\d.]+")
GROUPS = ("业主", "住户", "租户", "居民", "村民", "学生", "家长", "教师", "老师", "商户", "个体户", "司机", "员工",
          "职工", "工人", "农民工", "农民", "患者", "老人", "考生", "购房者", "消费者", "乘客", "退役军人", "残疾人",
          "新生", "毕业生", "外卖员", "快递员", "环卫工人")


@dataclass
class Item:
    """One text to cluster: what it says, who sent it, when, and where it comes from."""

    key: object
    title: str
    content: str
    sender: object
    day: dt.date
    place: str = ""  # the sender's place (a demand's town); empty for public messages
    group: str = ""  # the sender's group (an enterprise's sector); empty for public messages
    unit: str = ""  # the lead unit
    likes: int = 0


@dataclass
class Cluster:
    """Indices into the items, best representative first, with each one's similarity to the centroid."""

    members: list[int]
    similarity: list[float]
    terms: list[str] = field(default_factory=list)
    text_place: str = ""
    text_group: str = ""
    centroid: object = None


@dataclass
class Vectors:
    matrix: sparse.csr_matrix
    word_matrix: sparse.csr_matrix
    vocabulary: np.ndarray
    tokens: list
    word_vectorizer: TfidfVectorizer
    char_vectorizer: "CharBigrams"


def _identity(tokens):
    return tokens


def segment(text: str) -> list[str]:
    """The text model's words (its tokenizer and dictionary, its filter), without jieba's HMM pass."""
    out = []
    for word in dictionary.get().cut(text, HMM=False):
        word = word.strip().lower()
        if word and _WORD.fullmatch(word) and not _DIGITS.fullmatch(word):
            out.append(word)
    return out


class CharBigrams:
    """TfidfVectorizer(analyzer="char", ngram_range=(2, 2), sublinear_tf=True, dtype=float32) with its
    min_df and max_df, counted with numpy: a character pair is one int64 key (two code points), the pairs
    of all texts are counted at once, and only the vocabulary's pairs are looked up (sorted keys). The same
    features, idf and rows as scikit-learn's (which loops over every pair in Python: a third of the
    vectorising of a month's 100,000 demands)."""

    _SPACES = re.compile(r"\s\s+")

    def __init__(self, min_df: int = 1, max_df: float = 1.0):
        self.min_df, self.max_df = min_df, max_df

    def _entries(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        texts = [self._SPACES.sub(" ", t.lower()) for t in texts]
        codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        owner = np.repeat(np.arange(len(texts)), lengths)
        if len(codes) < 2:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pair = np.ones(len(codes) - 1, dtype=bool)
        ends = np.cumsum(lengths) - 1
        pair[ends[(lengths > 0) & (ends < len(codes) - 1)]] = False  # no pair across two texts
        return owner[:-1][pair], ((codes[:-1][pair] + 1) << 21) | codes[1:][pair]

    def fit_transform(self, texts: list[str]) -> sparse.csr_matrix:
        doc, key = self._entries(texts)
        keys, column = np.unique(key, return_inverse=True)
        counts = sparse.csr_matrix((np.ones(len(key), np.float32), (doc, column.ravel())),
                                   shape=(len(texts), len(keys)))
        counts.sum_duplicates()
        df = np.bincount(counts.indices, minlength=len(keys))
        most = self.max_df if isinstance(self.max_df, int) else self.max_df * len(texts)
        kept = np.flatnonzero((df >= self.min_df) & (df <= most))
        if not len(kept):
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        # scikit-learn's columns are in the pairs' string order, which is their keys' order (code points).
        self.keys_ = keys[kept]
        column_of = np.full(len(keys), -1, dtype=np.int64)
        column_of[kept] = np.arange(len(kept))
        df32 = df[kept].astype(np.float32) + np.float32(1)
        self.idf_ = np.log(np.float32(len(texts) + 1) / df32) + np.float32(1)
        coo = counts.tocoo()
        new = column_of[coo.col]
        keep = new >= 0
        return self._weigh(coo.data[keep], coo.row[keep], new[keep], len(texts))

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        doc, key = self._entries(texts)
        position = np.minimum(np.searchsorted(self.keys_, key), len(self.keys_) - 1)
        known = self.keys_[position] == key
        return self._weigh(np.ones(int(known.sum()), np.float32), doc[known], position[known], len(texts))

    def _weigh(self, value, row, column, n) -> sparse.csr_matrix:
        counts = sparse.csr_matrix((value, (row, column)), shape=(n, len(self.keys_)), dtype=np.float32)
        counts.sum_duplicates()
        counts.data = np.log(counts.data) + np.float32(1)
        counts.data *= self.idf_[counts.indices]
        return l2(counts, copy=False)


def _tokens(item: Item) -> tuple[list[str], str]:
    title = normalize(_ANON.sub("", item.title))
    content = normalize(_ANON.sub("", item.content[:CONTENT_CHARS * 2]))[:CONTENT_CHARS]
    return segment(title), f"{title}。{title}。{content}"


def vectorize(items: list[Item]) -> Vectors:
    """The stacked, L2-normalised TF-IDF rows of the items (see the module docstring, step 2)."""
    pairs = [_tokens(i) for i in items]
    tokens = [p[0] for p in pairs]
    min_df = 2 if len(items) >= 20 else 1
    word_vec = TfidfVectorizer(analyzer=_identity, min_df=min_df, max_df=0.3 if len(items) >= 50 else 1.0,
                               sublinear_tf=True, dtype=np.float32)
    char_vec = CharBigrams(min_df=min_df, max_df=0.3 if len(items) >= 50 else 1.0)
    word_m = word_vec.fit_transform(tokens)
    char_m = char_vec.fit_transform([p[1] for p in pairs])
    matrix = l2(sparse.hstack([word_m * WORD_WEIGHT, char_m * CHAR_WEIGHT], format="csr"))
    return Vectors(matrix, word_m.tocsr(), word_vec.get_feature_names_out(), tokens, word_vec, char_vec)


def transform(vectors: Vectors, items: list[Item]) -> sparse.csr_matrix:
    """Other items (the previous period) in the same feature space."""
    if not items:
        return sparse.csr_matrix((0, vectors.matrix.shape[1]), dtype=np.float32)
    pairs = [_tokens(i) for i in items]
    word_m = vectors.word_vectorizer.transform([p[0] for p in pairs])
    char_m = vectors.char_vectorizer.transform([p[1] for p in pairs])
    return l2(sparse.hstack([word_m * WORD_WEIGHT, char_m * CHAR_WEIGHT], format="csr"))


def _blocks(matrix: sparse.csr_matrix) -> list[np.ndarray]:
    """Index arrays of at most about BLOCK rows each, similar rows together (step 3)."""
    n = matrix.shape[0]
    if n <= ONE_BLOCK:
        return [np.arange(n)]
    dims = min(64, matrix.shape[1] - 1)
    reduced = l2(TruncatedSVD(dims, random_state=SEED, algorithm="randomized", n_iter=2).fit_transform(matrix))
    out, pending = [], [(np.arange(n), reduced)]
    while pending:
        index, points = pending.pop()
        if len(index) <= BLOCK * 2:
            out.append(index)
            continue
        k = max(2, math.ceil(len(index) / BLOCK))
        labels = MiniBatchKMeans(k, random_state=SEED, n_init=1, batch_size=4096, max_iter=20,
                                 max_no_improvement=3).fit_predict(points)
        if len(set(labels.tolist())) == 1:  # identical points: split in halves rather than loop
            half = len(index) // 2
            pending += [(index[:half], points[:half]), (index[half:], points[half:])]
            continue
        for label in np.unique(labels):
            chosen = labels == label
            pending.append((index[chosen], points[chosen]))
    return out


def _within(matrix: sparse.csr_matrix, index: np.ndarray) -> list[np.ndarray]:
    """Average-linkage clusters of one block (step 4), as index arrays of at least MIN_SIZE rows."""
    if len(index) < MIN_SIZE:
        return []
    rows = matrix[index]
    distance = 1.0 - (rows @ rows.T).toarray()
    np.clip(distance, 0.0, 1.0, out=distance)
    np.fill_diagonal(distance, 0.0)
    labels = fcluster(linkage(squareform(distance, checks=False), method="average"), t=1.0 - THRESHOLD,
                      criterion="distance")
    out = []
    for label, count in Counter(labels.tolist()).items():
        if count >= MIN_SIZE:
            out.append(index[labels == label])
    return out


def _mean_rows(matrix: sparse.csr_matrix, groups: list[np.ndarray]) -> sparse.csr_matrix:
    """Each group's mean row, as one sparse product (a dense mean per group would allocate the whole
    vocabulary thousands of times)."""
    sizes = np.array([len(g) for g in groups])
    rows = np.repeat(np.arange(len(groups)), sizes)
    cols = np.concatenate(groups) if groups else np.array([], dtype=int)
    weights = np.repeat(1.0 / np.maximum(sizes, 1), sizes).astype(np.float32)
    mean = sparse.csr_matrix((weights, (rows, cols)), shape=(len(groups), matrix.shape[0]))
    return (mean @ matrix).tocsr()


def _merge(groups: list[np.ndarray], matrix: sparse.csr_matrix) -> list[np.ndarray]:
    """Kept clusters whose centroids are MERGE-similar become one (step 5: a class split across blocks)."""
    if len(groups) < 2:
        return groups
    centroids = l2(_mean_rows(matrix, groups))
    sim = (centroids @ centroids.T).tocoo()
    parent = list(range(len(groups)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    close = (sim.row < sim.col) & (sim.data >= MERGE)
    for i, j in zip(sim.row[close].tolist(), sim.col[close].tolist(), strict=True):
        parent[find(i)] = find(j)
    merged: dict[int, list[np.ndarray]] = {}
    for i, g in enumerate(groups):
        merged.setdefault(find(i), []).append(g)
    return [np.concatenate(parts) for parts in merged.values()]


def _places(tokens: list[str]) -> set[str]:
    """Place names a title mentions: one to three consecutive words ending like a place ("魅力之城小区")."""
    out = set()
    for j in range(len(tokens)):
        for k in range(3):
            if j - k < 0:
                break
            name = "".join(tokens[j - k:j + 1])
            if 3 <= len(name) <= 12 and _PLACE.match(name) and not _NOT_PLACE.search(name):
                out.add(name)
    return out


def _describe(c: Cluster, vectors: Vectors, words_row: sparse.csr_matrix) -> None:
    """Top terms from the word centroid (`words_row`); the place and the group the texts name most."""
    docs = [set(vectors.tokens[i]) for i in c.members]
    df = Counter(w for d in docs for w in d)
    need = max(2, math.ceil(len(docs) * 0.3))
    place_df = Counter(p for i in c.members for p in _places(vectors.tokens[i]))
    places = [(n, len(p), p) for p, n in place_df.items() if n >= need]
    c.text_place = max(places)[2] if places else ""
    groups = [w for w in GROUPS if df.get(w, 0) >= max(2, math.ceil(len(docs) * 0.2))]
    c.text_group = max(groups, key=lambda w: df[w]) if groups else ""
    terms = []
    for i in words_row.indices[np.argsort(-words_row.data, kind="stable")][:40]:
        word = vectors.vocabulary[i]
        if (len(word) < 2 or word in STOPWORDS or word in c.text_place or word == c.text_group
                or any(word in t or t in word for t in terms)):
            continue
        terms.append(str(word))
        if len(terms) == TERMS:
            break
    c.terms = terms


def cluster(items: list[Item], vectors: Vectors | None = None) -> tuple[list[Cluster], Vectors | None]:
    """The clusters of `items` with at least MIN_SIZE texts from MIN_SENDERS senders, largest first."""
    if len(items) < MIN_SIZE:
        return [], None
    vectors = vectors or vectorize(items)
    matrix = vectors.matrix
    groups = []
    for block in _blocks(matrix):
        groups += _within(matrix, block)
    groups = [g for g in _merge(groups, matrix) if len({items[i].sender for i in g}) >= MIN_SENDERS]
    if not groups:
        return [], vectors
    centroids = l2(_mean_rows(matrix, groups))
    word_centroids = _mean_rows(vectors.word_matrix, groups)
    # Every member's similarity to its own group's centre, in one row-wise product.
    members = np.concatenate(groups)
    owner = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    similarity = np.asarray(matrix[members].multiply(centroids[owner]).sum(axis=1)).ravel()
    out, start = [], 0
    for k, g in enumerate(groups):
        sims = similarity[start:start + len(g)]
        start += len(g)
        order = np.lexsort((g, -sims))  # most central first; ties by input order (deterministic)
        c = Cluster([int(g[i]) for i in order], [round(float(sims[i]), 4) for i in order],
                    centroid=centroids[k])
        _describe(c, vectors, word_centroids[k])
        if c.terms:  # texts alike only in how people write ("什么时候能…") share no key term: not one problem
            out.append(c)
    out.sort(key=lambda c: (-len(c.members), c.members[0]))
    return out, vectors


def shortlist(clusters: list[Cluster], items: list[Item], recent_from: dt.date, limit: int) -> list[Cluster]:
    """The `limit` clusters with the highest heat before growth is known (growth moves a score by at most 10
    of its hundreds of points), so the previous period is compared with these only."""
    def score(c):
        members = [items[i] for i in c.members]
        recent = sum(1 for m in members if m.day and m.day >= recent_from)
        return -heat(senders=len({m.sender for m in members}), count=len(members),
                     recent_share=recent / len(members), growth=0, likes=sum(m.likes for m in members))

    return sorted(clusters, key=lambda c: (score(c), c.members[0]))[:limit]


def previous_counts(clusters: list[Cluster], vectors: Vectors, previous: list[Item]) -> list[int]:
    """How many of the previous period's texts belong to each cluster: nearest centroid, at least THRESHOLD."""
    counts = np.zeros(len(clusters), dtype=np.int64)
    if not clusters or not previous:
        return counts.tolist()
    centroids = sparse.vstack([c.centroid for c in clusters]).T.tocsc()
    for start in range(0, len(previous), 5000):
        sim = (transform(vectors, previous[start:start + 5000]) @ centroids).toarray()
        best = sim.argmax(axis=1)
        close = sim[np.arange(len(best)), best] >= THRESHOLD
        counts += np.bincount(best[close], minlength=len(clusters))
    return counts.tolist()


# ---------------------------------------------------------------- heat and title

HEAT_FORMULA = ("热度 = 40×log₂(1+企业数) + 20×log₂(1+诉求数) + 20×近期占比 + 10×增长 + 10×log₂(1+点赞数)。"
                "企业数：提出诉求的不同企业（公开留言为不同留言用户）；近期占比：期末7天内的诉求占本类诉求的比例（0～1）；"
                "增长：(本期件数−上期同类件数)÷(本期件数+上期同类件数)（−1～1，上期同类件数按与本类中心的相似度"
                f"≥{THRESHOLD:.2f}计）；点赞数：导入的公开留言的点赞数之和（企业诉求为0）。")


def heat(*, senders: int, count: int, recent_share: float, growth: float, likes: int = 0) -> float:
    """The documented heat score (HEAT_FORMULA): distinct senders weigh most, then size, recency, growth."""
    value = (40 * math.log2(1 + senders) + 20 * math.log2(1 + count) + 20 * recent_share + 10 * growth
             + 10 * math.log2(1 + max(0, likes)))
    return round(value, 1)


def growth(count: int, previous: int) -> float:
    return round((count - previous) / (count + previous), 3) if count + previous else 0.0


def most_common(values, share: float = 0.5) -> str:
    """The value at least `share` of the non-empty values have, else ""."""
    values = [v for v in values if v]
    if not values:
        return ""
    value, n = Counter(values).most_common(1)[0]
    return value if n >= share * len(values) else ""


def label(terms: list[str], place: str, group: str, anyone: str = "多家企业") -> str:
    """The generated short title: place, the group affected (else `anyone`) and the key terms."""
    who = f"{place}{group}" if place or group else anyone
    what = "、".join(terms) if terms else "同类"
    return f"{who}反映“{what}”问题"[:120]
