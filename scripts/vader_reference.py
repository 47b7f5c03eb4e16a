#!/usr/bin/env python3
"""Record vaderSentiment 3.3.2 polarity scores as a parity fixture for gs-sentiment.

What it is: a deterministic corpus of English sentences (finance headlines and
social posts built from templates with a fixed seed, plus hand-written
sentences that exercise every VADER rule), each scored with the reference
Python implementation, `SentimentIntensityAnalyzer().polarity_scores(text)`.

Rerun from the repository root with a throwaway venv:

    python3 -m venv /tmp/vr && /tmp/vr/bin/pip install vaderSentiment==3.3.2 && /tmp/vr/bin/python scripts/vader_reference.py

(pip also pulls in `requests`: vaderSentiment declares it as a dependency,
although the module only imports it inside its `__main__` demo.)

It writes shared/sentiment/tests/data/vader_reference.jsonl, which is consumed
by the Rust parity test in shared/sentiment/tests/vader_parity.rs. The output
is deterministic (fixed seed, no set iteration), so re-running it only changes
the file when the corpus or the package changes.

File layout (JSON Lines, UTF-8, written with ensure_ascii=False):
  * line 1 is a header:
      {"generator": "scripts/vader_reference.py", "package": "vaderSentiment 3.3.2", "sentences": N}
  * then N lines, one per sentence:
      {"text": ..., "neg": ..., "neu": ..., "pos": ..., "compound": ...}
    with the floats exactly as the package returns them (it already rounds:
    neg/neu/pos with round(x, 3), compound with round(x, 4)).

No sentence contains a tab or a newline, and every sentence is distinct. A
few deliberately odd inputs are included ("?", "...", a whitespace-only
string, a no-break space, curly apostrophes, multi-code-point emoji) because
they probe tokenisation corners that a port can easily get wrong.
"""

import importlib.metadata
import json
import os
import random
import sys

EXPECTED_VERSION = "3.3.2"
SEED = 20261201
FINANCE_TARGET = 420  # distinct template-generated finance sentences

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "shared", "sentiment", "tests", "data", "vader_reference.jsonl")


# --------------------------------------------------------------------------
# (a) finance headlines and social posts, from templates
# --------------------------------------------------------------------------

COMPANIES = [
    "Acme Corp", "Globex", "Initech", "Umbrella Holdings", "Stark Industries",
    "Wayne Enterprises", "Hooli", "Soylent Inc", "Cyberdyne Systems",
    "Wonka Industries", "Tyrell Corp", "Vandelay Industries", "Pied Piper",
    "Massive Dynamic", "Oscorp", "Gringotts Bank", "Dunder Mifflin",
    "Monarch Airlines", "Blue Sun Energy", "Nakatomi Trading",
]
TICKERS = [
    "$AAPL", "$TSLA", "$NVDA", "$AMZN", "$MSFT", "$GME", "$AMC", "$META",
    "$NFLX", "$BTC", "$ETH", "$SPY", "$QQQ", "$AMD", "$PLTR",
]
METRICS = ["revenue", "profit", "net income", "sales", "earnings", "margins", "cash flow", "subscriber growth"]
UP_VERBS = ["jumps", "soars", "surges", "climbs", "rises", "rallies", "improves", "rebounds"]
DOWN_VERBS = ["falls", "drops", "plunges", "slumps", "tumbles", "sinks", "declines", "collapses"]
QUARTERS = ["first-quarter", "second-quarter", "third-quarter", "fourth-quarter", "full-year"]
ANALYST_ACTIONS_POS = ["upgrade", "raise price targets on", "turn bullish on", "reiterate buy on"]
ANALYST_ACTIONS_NEG = ["downgrade", "cut price targets on", "turn bearish on", "slash estimates for"]
REASONS_POS = [
    "strong demand", "record orders", "a successful product launch", "better than expected guidance",
    "cost savings", "a new partnership", "robust cloud growth", "an upbeat outlook",
]
REASONS_NEG = [
    "a guidance cut", "weak demand", "supply chain problems", "an accounting scandal",
    "rising costs", "a failed drug trial", "regulatory concerns", "a data breach",
]
EVENTS_NEUTRAL = [
    "its annual shareholder meeting", "the quarterly earnings call", "a scheduled investor day",
    "the index rebalancing", "the Federal Reserve decision", "the jobs report",
]
SOCIAL_POS = [
    "to the moon", "diamond hands", "buying the dip", "this is the way", "printing money",
    "best trade of my life", "love this stock", "huge win today",
]
SOCIAL_NEG = [
    "bag holding again", "rug pulled", "worst trade ever", "getting crushed", "this is a disaster",
    "lost everything", "total scam", "so much pain",
]
SOCIAL_SUFFIX = ["", "!", "!!!", "!!!!!", "?", "??", " lol", " smh", " :)", " :(", " 🚀", " 📉", " 😀", " 😢"]


def finance_sentence(rng):
    kind = rng.randrange(16)
    c = rng.choice(COMPANIES)
    t = rng.choice(TICKERS)
    pct = rng.choice([1, 2, 3, 4, 5, 7, 8, 10, 12, 15, 18, 20, 25, 30, 40, 50])
    if kind == 0:
        return f"{c} beats estimates as {rng.choice(METRICS)} {rng.choice(UP_VERBS)} {pct}%"
    if kind == 1:
        return f"{c} misses estimates as {rng.choice(METRICS)} {rng.choice(DOWN_VERBS)} {pct}%"
    if kind == 2:
        return f"Analysts {rng.choice(ANALYST_ACTIONS_NEG)} {c} after {rng.choice(REASONS_NEG)}"
    if kind == 3:
        return f"Analysts {rng.choice(ANALYST_ACTIONS_POS)} {c} on {rng.choice(REASONS_POS)}"
    if kind == 4:
        return f"{t} {rng.choice(SOCIAL_POS)}{rng.choice(SOCIAL_SUFFIX)}"
    if kind == 5:
        return f"{t} {rng.choice(SOCIAL_NEG)}{rng.choice(SOCIAL_SUFFIX)}"
    if kind == 6:
        return f"Shares of {c} are volatile ahead of {rng.choice(EVENTS_NEUTRAL)}"
    if kind == 7:
        return rng.choice([
            f"{c} files for bankruptcy protection",
            f"{c} faces a class action lawsuit over alleged fraud",
            f"{c} warns of a {pct}% drop in {rng.choice(METRICS)}",
            f"{c} takes on a ${pct} billion liability from the merger",
            f"{c} shares crash {pct}% as the CEO resigns",
        ])
    if kind == 8:
        return rng.choice([
            f"{c} raises dividend by {pct}%",
            f"{c} announces a ${pct} billion share buyback",
            f"{c} reports record {rng.choice(QUARTERS)} {rng.choice(METRICS)}",
            f"{c} wins a major government contract",
            f"{c} stock hits an all-time high",
        ])
    if kind == 9:
        return f"{t} short squeeze incoming{rng.choice(SOCIAL_SUFFIX)}"
    if kind == 10:
        return f"{c} {rng.choice(QUARTERS)} {rng.choice(METRICS)} {rng.choice(UP_VERBS)} {pct}% but guidance disappoints"
    if kind == 11:
        return f"{c} {rng.choice(QUARTERS)} {rng.choice(METRICS)} {rng.choice(DOWN_VERBS)} {pct}% but the outlook remains strong"
    if kind == 12:
        return f"{c} to report {rng.choice(QUARTERS)} results on {rng.choice(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'])}"
    if kind == 13:
        intens = rng.choice(["very", "extremely", "really", "slightly", "somewhat", "barely", "kind of", "sort of"])
        mood = rng.choice(["bullish", "bearish", "optimistic", "worried", "confident", "nervous", "happy", "upset"])
        return f"Investors are {intens} {mood} about {c}"
    if kind == 14:
        neg = rng.choice(["not", "never", "hardly", "isn't", "wasn't", "don't think it's"])
        adj = rng.choice(["good", "bad", "great", "terrible", "strong", "weak", "impressive", "awful"])
        return f"The {c} deal is {neg} {adj}"
    cap = rng.choice(["HUGE", "TERRIBLE", "AMAZING", "AWFUL", "GREAT", "BAD"])
    return f"{t} {rng.choice(['earnings', 'guidance', 'quarter', 'call'])} was {cap}{rng.choice(SOCIAL_SUFFIX)}"


def finance_corpus():
    rng = random.Random(SEED)
    seen = set()
    out = []
    attempts = 0
    while len(out) < FINANCE_TARGET:
        attempts += 1
        if attempts > 100000:
            raise SystemExit("template space too small for FINANCE_TARGET")
        s = finance_sentence(rng)
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


# Fixed finance phrases named in the brief (kept verbatim).
FINANCE_FIXED = [
    "Acme Corp beats estimates as revenue jumps 12%",
    "$AAPL to the moon!!!",
    "Analysts downgrade Globex after guidance cut",
    "Shares are volatile ahead of earnings",
    "Company files for bankruptcy protection",
    "raises dividend",
    "short squeeze",
    "liability",
    "misses estimates",
    "beats estimates",
    "guidance cut",
    "bankruptcy",
    "profit warning",
    "record profit",
    "massive losses",
    "stock crash",
    "bull market",
    "bear market",
    "The market is in the red today",
    "The company is back in the black",
    "Rates are on hold",
]


# --------------------------------------------------------------------------
# (b) hand-written sentences exercising every VADER rule
# --------------------------------------------------------------------------

RULES = [
    # --- the package's own demo sentences
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.",
    "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.",
    "Without a doubt, an excellent idea.",
    "It was one of the worst movies I've seen, despite good reviews.",
    "Unbelievably bad acting!!",
    "Poor direction.",
    "VERY poor production.",
    "The movie was bad.",
    "Very bad movie.",
    "VERY BAD movie!",
    # --- negation, one, two and three words back
    "not good",
    "This is not good.",
    "This is not very good.",
    "This is not at all good.",
    "isn't bad",
    "It isn't bad.",
    "It isnt bad.",
    "It is not really that bad.",
    "never great",
    "The service was never great.",
    "The service was never so great.",
    "The service was never this great.",
    "This has never been so bad.",
    "It was never, ever good.",
    "without doubt",
    "Without doubt the best quarter ever.",
    "without a doubt",
    "Without any doubt, a great result.",
    "They did it without help.",
    "I can't say it was good.",
    "I cannot recommend it.",
    "I don't like it.",
    "I dont like it.",
    "I didn't hate it.",
    "I didnt hate it.",
    "We won't lose.",
    "We wont win.",
    "She wouldn't cry.",
    "He shouldn't worry.",
    "It doesn't hurt.",
    "It doesnt help.",
    "They aren't happy.",
    "You ain't seen nothing good yet.",
    "Nothing good ever happens.",
    "None of it was good.",
    "Nobody was happy.",
    "Neither good nor bad.",
    "It was neither pleasant nor useful.",
    "Nope, not happy.",
    "Rarely good, seldom great.",
    "Despite the good news, shares fell.",
    "Despite the bad news, shares rose.",
    "I haven't been this happy in years.",
    "It mightn't be terrible.",
    "The results weren't bad at all.",
    "The results wasn't good.",
    "I don’t like it at all.",
    "I don't like it at all.",
    "That isn’t bad.",
    "I couldn't be happier.",
    "I could not be happier.",
    "Uh-uh, not good.",
    "uhuh that was bad",
    # --- least
    "least",
    "This is the least bad option.",
    "At least it is good.",
    "At the very least it is good.",
    "It is the least helpful answer.",
    "Least helpful answer ever.",
    "He is least happy on Mondays.",
    # --- boosters and dampeners
    "very good",
    "It is very good.",
    "It is extremely good.",
    "It is extremely bad.",
    "It is really really good.",
    "It is absolutely terrible.",
    "It is incredibly helpful.",
    "It is kind of good.",
    "It is kind of bad.",
    "It is kinda good.",
    "It is sort of good.",
    "It is sort of bad.",
    "It is sorta bad.",
    "It is kind-of nice.",
    "It is sort-of nice.",
    "It is barely good.",
    "It is barely acceptable.",
    "It is hardly good.",
    "It is hardly a disaster.",
    "It is slightly better.",
    "It is somewhat worse.",
    "It is just enough good.",
    "It is almost perfect.",
    "It is marginally profitable.",
    "It is scarcely useful.",
    "It is very very very good.",
    "It is so good.",
    "It is so bad.",
    "It is totally awesome.",
    "It is fucking awesome.",
    "It is hella good.",
    "It is VERY good.",
    "It is VERY bad.",
    "It is very GOOD.",
    "It is KIND OF good.",
    "It is barely BAD.",
    "The most good thing.",
    "More good news for shareholders.",
    "Less bad than expected.",
    "A little bit happy.",
    "kind of",
    "very",
    "Kind of a mess.",
    "It was not very good at all.",
    "It was not extremely bad.",
    "The team is incredibly not good.",
    # --- ALL-CAPS emphasis and mixed case
    "GOOD",
    "good",
    "Good",
    "This is GOOD.",
    "This is BAD.",
    "THIS IS GOOD.",
    "THIS IS BAD.",
    "This is GOOD and BAD.",
    "I LOVE it.",
    "I HATE it.",
    "i love it",
    "I love IT",
    "WOW this is AMAZING",
    "The stock is GREAT but the CEO is TERRIBLE.",
    "$AAPL is GREAT",
    "$TSLA is TERRIBLE",
    "NOT good",
    "not GOOD",
    "NOT GOOD",
    "The quarter was NOT bad.",
    "HAPPY happy joy joy",
    "ok",
    "OK",
    "Ok fine",
    "ok!",
    "no!",
    "lol",
    "LOL",
    "lol!",
    "lmao",
    "sob",
    "fav",
    "xd",
    "XD",
    "x-D",
    "muah",
    # --- punctuation emphasis
    "Good!",
    "Good!!",
    "Good!!!",
    "Good!!!!",
    "Good!!!!!",
    "Good!!!!!!!!!!",
    "Bad!",
    "Bad!!!!",
    "Bad!!!!!!",
    "Good?",
    "Good??",
    "Good???",
    "Good????",
    "Good?????",
    "Bad??",
    "Bad????",
    "Really? Good?",
    "Is this good?!",
    "Is this bad?!?!",
    "What a day!!!",
    "Great job ! ! !",
    "Is it over ?",
    "The meeting is at 10 am!",
    "The meeting is at 10 am??",
    "Good. Bad. Good!",
    # --- contrastive "but"
    "The food was good but the service was bad.",
    "The food was bad but the service was good.",
    "The food was good, but the service was bad.",
    "Good but bad.",
    "Bad but good.",
    "good but good",
    "bad but bad",
    "The food was good but the service was good too.",
    "The food was good and the view was good but the service was good.",
    "The food was great but the service was good and the view was great.",
    "But it was good.",
    "It was good but.",
    "BUT it was bad.",
    "Revenue was strong, but margins were weak.",
    "Revenue was weak, but margins were strong, but costs were bad.",
    "I love it but I hate it but I love it.",
    "Not bad but not good either.",
    "Nice but expensive but worth it.",
    "Earnings rose but guidance was cut and shares fell.",
    "It is good, BUT it is bad.",
    # --- emoticons
    ":)",
    ":(",
    ":D",
    ":-D",
    ":-)",
    ":-(",
    ";)",
    ";D",
    ":P",
    ":p",
    ":-p",
    "=D",
    "=)",
    "<3",
    "</3",
    "D:",
    "d:",
    "O.o",
    "o_O",
    ":/",
    ":'(",
    "XO",
    "Great day :)",
    "Bad day :(",
    "Make sure you smile :D",
    "I'm fine :)",
    "Not happy :(",
    "Not :)",
    "not :(",
    "Earnings beat :) :) :)",
    "Earnings miss :( :( :(",
    "That was fun :D!!!",
    "ugh :/",
    "Love you <3",
    "Heartbroken </3",
    "Good morning :-)",
    # --- emoji
    "😀",
    "😢",
    "🚀",
    "📉",
    "📈",
    "🔥",
    "💩",
    "😂",
    "👍",
    "❤",
    "❤️",
    "👍🏽",
    "🚀🚀🚀",
    "📉📉",
    "😀😢",
    "$TSLA 🚀🚀🚀",
    "$GME 📉📉📉",
    "Great earnings 😀",
    "Terrible quarter 😢",
    "Stock is up📈",
    "📉stock is down",
    "So happy😀so sad😢",
    "I love this ❤️",
    "This is fire 🔥🔥",
    "Not 😀",
    "Not happy 😢",
    "Nice job 👍",
    "Earnings call 😂😂😂",
    "🚀 to the moon!!!",
    "The chart 📉 looks bad",
    # --- special cases and idioms
    "the bomb",
    "This product is the bomb.",
    "This product is the bomb!",
    "That was a bomb.",
    "The kiss of death for the company.",
    "kiss of death",
    "That guidance was the kiss of death.",
    "yeah right",
    "Yeah right, like that will work.",
    "Oh yeah right, great idea.",
    "cut the mustard",
    "It does not cut the mustard.",
    "This plan will cut the mustard.",
    "hand to mouth",
    "They live hand to mouth.",
    "Living hand to mouth every month.",
    "the shit",
    "This song is the shit.",
    "This is shit.",
    "bad ass",
    "That car is bad ass.",
    "That car is badass.",
    "He is a bad person.",
    "We are waiting at the bus stop.",
    "The bus stop is far away.",
    "This cake is to die for.",
    "A beating heart inside the machine.",
    "Break a leg tonight!",
    "We are cooking with gas now.",
    "He is on the ball.",
    "I am under the weather.",
    "They have the upper hand.",
    "Stop blowing smoke.",
    "That was a back handed compliment.",
    "The company is in the black.",
    "The company is in the red.",
    "Quite the bomb, honestly.",
    "It was really the bomb.",
    # --- "no" handling
    "no",
    "No",
    "NO",
    "no problem",
    "No problem at all.",
    "no doubt",
    "No doubt about it.",
    "There is no good answer.",
    "There is no very good answer.",
    "No, it is good.",
    "No good.",
    "No bad news today.",
    "No happy ending.",
    "Yes or no?",
    "I said no.",
    "no no no",
    "No love or hate.",
    "No hate nor love.",
    "There is no excuse or reason.",
    "no way",
    "No worries!",
    "No, thanks.",
    "No fun, no gain.",
    # --- "this" and "so" multiplier corners
    "I find this good.",
    "We really love this great product.",
    "It is so very good.",
    "Never have I seen this good a result.",
    "It has never been this bad.",
    "All of this bad news.",
    # --- contractions and misc tokenisation
    "I'm happy.",
    "I'm not happy.",
    "You're great.",
    "You're not great.",
    "It's awful.",
    "It's not awful.",
    "We've won!",
    "They'd love it.",
    "I'll be fine.",
    "Don't worry, be happy.",
    "Can't complain.",
    "Couldn't care less.",
    "Won't stop, can't stop.",
    "It's a win-win.",
    "A well-known, top-notch firm.",
    "Great...",
    "Great... not.",
    "...good...",
    "good,bad",
    "good.bad",
    "(good)",
    "\"good\"",
    "'bad'",
    "good-ish",
    "ok-ish",
    "#winning",
    "@user thanks!",
    "http://example.com is great",
    "e-mail me",
    "U.S. stocks rally",
    "A+ effort",
    "Grade: F",
    "10/10 would buy again",
    "0/10",
    "Good\u00a0news",
    "good     bad",
    " good ",
    # --- plain neutral sentences
    "The meeting is at 10 am.",
    "The report will be published tomorrow.",
    "The company is headquartered in Ohio.",
    "Shares traded at 42 dollars.",
    "The board meets every Tuesday.",
    "The CEO spoke at the conference.",
    "Trading volume was 3 million shares.",
    "The index closed at 4500 points.",
    "The filing was submitted on Friday.",
    "Results are due next week.",
    "The stock is listed on the Nasdaq.",
    "The firm has 1200 employees.",
    "The merger is expected to close in May.",
    "Please see the attached document.",
    "The price is 10 dollars.",
    "This is a sentence.",
    "Tomorrow is Wednesday.",
    "The market opens at 9:30.",
    "It is what it is.",
    "The quick brown fox jumps over the lazy dog.",
    # --- edge and empty-ish texts
    "?",
    "!",
    "...",
    "??",
    "!!",
    "?!",
    ".",
    "-",
    "a",
    "I",
    " ",
    "   ",
    "12345",
    "$$$",
    "%",
    "!!!!!!!!",
    "????????",
]


def build_corpus():
    items = FINANCE_FIXED + finance_corpus() + RULES
    seen = set()
    corpus = []
    for s in items:
        if s == "":
            continue
        if "\t" in s or "\n" in s or "\r" in s:
            raise SystemExit(f"sentence contains a tab or newline: {s!r}")
        if s in seen:
            continue
        seen.add(s)
        corpus.append(s)
    return corpus


def main():
    version = importlib.metadata.version("vaderSentiment")
    assert version == EXPECTED_VERSION, f"need vaderSentiment {EXPECTED_VERSION}, found {version}"

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    corpus = build_corpus()
    analyzer = SentimentIntensityAnalyzer()

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    pos = neg = neu = 0
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        header = {
            "generator": "scripts/vader_reference.py",
            "package": f"vaderSentiment {EXPECTED_VERSION}",
            "sentences": len(corpus),
        }
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for text in corpus:
            s = analyzer.polarity_scores(text)
            obj = {"text": text, "neg": s["neg"], "neu": s["neu"], "pos": s["pos"], "compound": s["compound"]}
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
            if s["compound"] > 0.05:
                pos += 1
            elif s["compound"] < -0.05:
                neg += 1
            else:
                neu += 1

    print(f"wrote {os.path.relpath(OUT, ROOT)}: {len(corpus)} sentences", file=sys.stderr)
    print(f"compound > 0.05: {pos}, < -0.05: {neg}, in between: {neu}", file=sys.stderr)


if __name__ == "__main__":
    main()
