#!/usr/bin/python3
"""Checks that a text shows whole on a captured screen, or cut where a cut
belongs: with an ellipsis at its end (and, with --words, at a word boundary).
Usage:
  screen-fit.py SCREEN TEXT [--words] [--wrapped]
      finds the line where TEXT begins; with --wrapped, the lines below that
      start in the same column continue it (joined with one space)
  screen-fit.py SCREEN --column TITLE ROW=TEXT...
      the cell under the column titled TITLE (the last column) in the line
      that starts with ROW holds TEXT, whole or cut with an ellipsis
Prints what it found; exits 1 on a bad cut or when the text is not found."""
import sys

ELLIPSIS = ("\u2026", "...")
BORDER = "\u2502"     # a box's side: the help overlay's text ends there

def verdict(shown, full, words):
    """'' when `shown` is `full` or a proper cut of it, else why not"""
    shown = shown.rstrip()
    if shown == full:
        return ""
    for e in ELLIPSIS:
        if shown.endswith(e):
            prefix = shown[: -len(e)].rstrip()
            if not prefix or not full.startswith(prefix):
                return "cut text %r is not a prefix of %r" % (prefix, full)
            if words and len(prefix) < len(full) and full[len(prefix)] != " ":
                return "cut mid-word: %r (of %r)" % (shown, full)
            return ""
    return "cut without an ellipsis: %r (of %r)" % (shown, full)

def continues(line, x):
    """whether `line` goes on in column x with nothing before it (inside a box)"""
    left = line[:x]
    if BORDER in left:
        left = left[left.rindex(BORDER) + 1:]
    return left.strip() == "" and line[x:x + 1].strip() != ""

def main():
    screen = open(sys.argv[1], encoding="utf-8").read().split("\n")
    args = sys.argv[2:]
    if args[0] == "--column":
        title, bad = args[1], 0
        head = next((l for l in screen if title in l), None)
        if head is None:
            print("no column titled %s on the screen" % title)
            return 1
        col = head.index(title)
        for pair in args[2:]:
            row, full = pair.split("=", 1)
            line = next((l for l in screen if l.startswith(row + " ")), None)
            if line is None:
                print("no row %s" % row)
                bad = 1
                continue
            why = verdict(line[col:], full, False)
            print("%s %s: %r" % ("bad" if why else "ok", row, line[col:].rstrip()))
            if why:
                print("  " + why)
                bad = 1
        return bad
    full, words, wrapped = args[0], "--words" in args, "--wrapped" in args
    anchor = full[: min(len(full), 16)]
    for i, line in enumerate(screen):
        x = line.find(anchor)
        if x < 0:
            continue
        shown = line[x:].split(BORDER)[0].rstrip()
        j = i + 1
        while wrapped and j < len(screen) and continues(screen[j], x) \
                and not shown.endswith(ELLIPSIS):
            shown += " " + screen[j][x:].split(BORDER)[0].rstrip()
            j += 1
        why = verdict(shown, full, words)
        print("%s: %r" % ("bad" if why else "ok", shown))
        if why:
            print("  " + why)
        return 1 if why else 0
    print("not on the screen: %r" % anchor)
    return 1

sys.exit(main())
