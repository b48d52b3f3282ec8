"""Deterministic Chinese financial articles of realistic size and shape.

``stories(n, seed)`` yields the same ``n`` articles, byte for byte, on every run (and the
first ``k`` of ``stories(n)`` are ``stories(k)``: a bigger universe extends a smaller one).
The shape follows the real posts in ``tests/data/reference/finews-posts/``:

* bodies of 1-10 KB of HTML paragraphs (median about 3.5 KB), some indented with ``　　``,
  some with ``<strong>`` subheads, ``<br />`` line ends, ``&lt;…&gt;`` inside ``《》``,
  K-line image blocks (``EM_StockImg``) and ``<center><img></center>`` figures, and the
  ``<p class="em_media">（文章来源：媒体）</p>`` credit at the end;
* headlines recombined from real ones, with company names, codes and numbers;
* media names and companies from :mod:`bench.names`, Beijing times about 2,500 a day;
* infoCodes ``NW`` + the Beijing date + 10 digits (unique per article).

The text itself is sampled from the real paragraphs (:mod:`bench.corpus`) in chunks of
4-8 characters, lightly mutated (see :class:`_Stream`): at equal length it compresses a
little less than the real text does (``size_ratio`` reports both), so size and query
benchmarks see realistic, if slightly pessimistic, entropy.
"""

from __future__ import annotations

import html
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

import numpy as np

from bench.corpus import PARAGRAPHS, TITLES
from bench.names import EXCHANGE, MEDIA, STOCKS

DEFAULT_SEED = 20220112
#: Beijing time of the first article; later ones follow at about 2,500 a day.
START = datetime(2022, 1, 3, 6, 0, 0)
PER_DAY = 2500
CHUNK = (4, 8)  # characters per sampled chunk (inclusive)
MUTATE = 0.5  # share of chunks with one character replaced

_CORPUS = "".join(PARAGRAPHS).replace("\n", "")
_CODES = np.frombuffer(_CORPUS.encode("utf-32-le"), dtype="<u4").copy()
_ALPHABET, _COUNTS = np.unique(_CODES, return_counts=True)
_WEIGHTS = _COUNTS / _COUNTS.sum()
_PERMUTATIONS = np.array(
    [48 + np.random.default_rng(i).permutation(10) for i in range(64)], dtype="<u4"
)  # digit code points
_MEDIA_NAMES = [m for m, _ in MEDIA]
_MEDIA_CUM = list(accumulate(w for _, w in MEDIA))
_FRAGMENTS = sorted(
    {
        f.strip()
        for t in TITLES
        for f in t.replace("！", " ").replace("？", " ").replace("：", " ").replace("，", " ").split()
        if len(f.strip()) >= 4
    }
)


@dataclass(frozen=True)
class Story:
    """One article as the feeds know it: list fields and the text endpoint's HTML."""

    index: int
    info_code: str
    title: str
    media: str
    time: str  # Beijing, YYYY-MM-DD HH:MM:SS
    html: str
    digest: str  # plain text of the first paragraph(s), as a feed's digest


class _Stream:
    """An endless stream of sampled text, made a megabyte at a time with numpy.

    Chunks of ``CHUNK`` characters are copied from random places of the corpus; in half of
    them one character is replaced by a random one (drawn as often as it occurs), and the
    digits of every 64 characters are permuted: the corpus is small (15,000 characters), and
    without this a compressor with a long window would find it again and again, much more
    than in real news (where the same words recur but rarely the same 8 characters).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.buffer = ""
        self.pos = 0

    def take(self, n: int) -> str:
        if self.pos + n > len(self.buffer):
            self.buffer = self.buffer[self.pos :] + self._more(max(n, 1 << 20))
            self.pos = 0
        out = self.buffer[self.pos : self.pos + n]
        self.pos += n
        return out

    def _more(self, chars: int) -> str:
        lo, hi = CHUNK
        rng = self.rng
        k = chars * 2 // (lo + hi) + 16
        starts = rng.integers(0, len(_CODES) - hi, k)
        lengths = rng.integers(lo, hi + 1, k)
        ends = np.cumsum(lengths)
        offsets = ends - lengths
        codes = _CODES[np.repeat(starts - offsets, lengths) + np.arange(ends[-1])]
        mutate = rng.random(k) < MUTATE
        where = offsets[mutate] + rng.integers(0, 1 << 30, int(mutate.sum())) % lengths[mutate]
        codes[where] = rng.choice(_ALPHABET, size=len(where), p=_WEIGHTS)
        digits = np.flatnonzero((codes >= 48) & (codes <= 57))
        codes[digits] = _PERMUTATIONS[(digits // 64) % len(_PERMUTATIONS), codes[digits] - 48]
        text: str = codes.astype("<u4").tobytes().decode("utf-32-le")
        return text


class _Writer:
    """The random state of one stream of articles."""

    def __init__(self, seed: int, per_day: int = PER_DAY) -> None:
        self.per_day = per_day
        self.rnd = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.stream = _Stream(self.np)
        self.when = START

    # --- text ----------------------------------------------------------------------------

    def text(self, chars: int, names: list[str]) -> str:
        """About ``chars`` characters of sampled text, ``names`` mentioned now and then."""
        body = self.stream.take(chars)
        pieces: list[str] = []
        prev = 0
        for pos in range(self.rnd.randrange(40), chars, 70):  # a name every ~70 characters
            pieces += (body[prev:pos], self.rnd.choice(names))
            prev = pos
        pieces.append(body[prev:])
        return "".join(pieces)[:chars].rstrip("，、；：") + "。"

    def paragraph(self, chars: int, names: list[str], indent: bool) -> tuple[str, str]:
        plain = self.text(chars, names)
        body = html.escape(plain, quote=False)
        if self.rnd.random() < 0.06:  # a document title with an escaped inner title
            doc = self.text(8, names)[:-1]
            inner = self.text(6, names)[:-1]
            body = f"《{doc}&lt;{inner}&gt;》" + body
            plain = f"《{doc}<{inner}>》" + plain
        if self.rnd.random() < 0.08:
            body += "<br />"
        return plain, f"<p>{'　　' if indent else ''}{body}</p>"

    # --- blocks -------------------------------------------------------------------------

    def kline(self, stock: tuple[str, str, str]) -> str:
        _, code, market = stock
        token = f"{self.rnd.getrandbits(128):032x}"
        return (
            '<p style="display:none;height:1px;overflow:hidden;"><br /></p><!-- EM_StockImg_Start -->'
            f'<p style="text-align:center;"><a href="http://quote.eastmoney.com/unify/r/{market}.{code}" '
            f'data-code="{code}|{market}|1" data-code2="{code}|{market}|2|" class="EmImageRemark" '
            f'target="_blank"><img src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid={market}.{code}'
            f'&imageType=k&token={token}&at=1" border="0" alt="K图 {code}_0" data-code="K {code}|{market}|1" '
            f'data-code2="K {code}|{market}|2|" style="border:#d1d1d1 1px solid;" width="578" height="276" />'
            "</a></p><!-- EM_StockImg_End -->"
        )

    def figure(self, names: list[str]) -> str:
        image = f"D{self.rnd.randrange(10**22, 10**23)}_w692h398.jpg"
        caption = html.escape(self.text(self.rnd.randrange(12, 30), names), quote=False)
        return (
            f'<center><img src="https://dfscdn.dfcfw.com/download/{image}" alt="image" '
            'style="border:#d1d1d1 1px solid;padding:3px;margin:5px 0;" /></center>'
            f"<p>注：{caption}</p>"
        )

    def subhead(self, names: list[str]) -> str:
        head = self.text(self.rnd.randrange(8, 20), names)[:-1]
        return f"<p><strong>{html.escape(head, quote=False)}</strong></p>"

    # --- an article ---------------------------------------------------------------------

    def title(self, stock: tuple[str, str, str]) -> str:
        rnd = self.rnd
        name, code, market = stock
        frag = rnd.choice(_FRAGMENTS)
        roll = rnd.random()
        if roll < 0.30:
            title = f"{name}：{frag}"
        elif roll < 0.55:
            title = f"{frag} {rnd.choice(_FRAGMENTS)}"
        elif roll < 0.70:
            suffix = f"({code}.{EXCHANGE[market]})" if EXCHANGE[market] else "板块"
            title = f"{name}{suffix}{rnd.choice(['涨超', '跌超', '盘中涨', '午后涨幅扩大至'])}{rnd.randrange(2, 20)}%"
        else:
            title = f"{self.text(rnd.randrange(8, 16), [name])[:-1]} {frag}"
        if rnd.random() < 0.1:
            title += rnd.choice(["！", "？"])
        return title

    def story(self, index: int) -> Story:
        rnd = self.rnd
        self.when += timedelta(seconds=rnd.expovariate(self.per_day / 86400))
        when = self.when.replace(microsecond=0)
        media = rnd.choices(_MEDIA_NAMES, cum_weights=_MEDIA_CUM)[0]
        stock = rnd.choice(STOCKS)
        names = [stock[0], rnd.choice(STOCKS)[0], media]
        target = int(min(10_240, max(1_000, rnd.lognormvariate(math.log(3_500), 0.55))))
        indent = rnd.random() < 0.3
        blocks: list[str] = []
        plains: list[str] = []
        if rnd.random() < 0.25:
            blocks.append(self.kline(stock))
            if rnd.random() < 0.3:
                blocks.append(self.kline(rnd.choice(STOCKS)))
        size = sum(map(len, blocks))
        subheads = rnd.random() < 0.4
        while size < target or len(plains) < 2:
            if subheads and plains and rnd.random() < 0.2:
                blocks.append(self.subhead(names))
            elif plains and rnd.random() < 0.04:
                blocks.append(self.figure(names))
            else:
                chars = int(min(400, max(30, rnd.lognormvariate(math.log(110), 0.5))))
                plain, block = self.paragraph(chars, names, indent)
                plains.append(plain)
                blocks.append(block)
            size += len(blocks[-1].encode("utf-8"))
        if rnd.random() < 0.95:
            blocks.append(f'<p class="em_media">（文章来源：{media}）</p>')
        code = f"NW{when:%Y%m%d}{2200000000 + index:010d}"
        return Story(
            index=index,
            info_code=code,
            title=self.title(stock),
            media=media,
            time=f"{when:%Y-%m-%d %H:%M:%S}",
            html="".join(blocks),
            digest=plains[0][:120],
        )


def stories(n: int, seed: int = DEFAULT_SEED, per_day: int = PER_DAY) -> Iterator[Story]:
    """The first ``n`` articles of the stream ``seed`` (``per_day`` articles a day)."""
    writer = _Writer(seed, per_day)
    for index in range(n):
        yield writer.story(index)
