#!/usr/bin/env python3
"""Checks that every relative link of the given Markdown files reaches a file and, when it names one, a heading.

    test/readme/links.py README.md doc/*.md ...

Links are [text](target) and ![alt](target) outside code blocks and code spans; a target with a scheme
(https:, mailto:) is not checked.  An anchor must be the GitHub slug of a heading of the target file: the
heading's text in lower case, every character but letters, digits, spaces, '-' and '_' dropped, spaces made
'-', and '-1', '-2' ... appended to repeats.  Prints one line per file, "... ok" or "... FAILED" with each
broken link, and exits non-zero when a link is broken.
"""
import os
import re
import sys

FENCE = re.compile(r'^\s{0,3}(```|~~~)')
LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')
CODE_SPAN = re.compile(r'(`+)(.+?)\1')
HEADING = re.compile(r'^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$')


def prose_lines(path):
    """(line number, text) of the lines outside fenced code blocks."""
    fenced = False
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line):
                fenced = not fenced
                continue
            if not fenced:
                yield number, line.rstrip('\n')


def slug(text):
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', text)   # a link's text only
    text = text.replace('`', '')
    text = re.sub(r'[^\w\- ]', '', text.lower())
    return text.replace(' ', '-')


anchors_of = {}


def anchors(path):
    if path not in anchors_of:
        seen = {}
        found = set()
        for _, line in prose_lines(path):
            m = HEADING.match(line)
            if not m:
                continue
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else '%s-%d' % (base, n))
        anchors_of[path] = found
    return anchors_of[path]


def broken_links(path):
    here = os.path.dirname(path)
    for number, line in prose_lines(path):
        for target in LINK.findall(CODE_SPAN.sub('', line)):
            if not target or re.match(r'^[a-zA-Z][a-zA-Z0-9+.-]*:', target):
                continue
            file_part, _, anchor = target.partition('#')
            dest = os.path.normpath(os.path.join(here, file_part)) if file_part else path
            if not os.path.exists(dest):
                yield number, target, 'no file %s' % dest
            elif anchor and dest.endswith('.md') and anchor not in anchors(dest):
                yield number, target, 'no heading #%s in %s' % (anchor, dest)


def main(paths):
    failed = 0
    for path in paths:
        broken = list(broken_links(path))
        if broken:
            failed += 1
            print('test readme/links %-34s ... FAILED' % path)
            for number, target, why in broken:
                print('    %s:%d: (%s): %s' % (path, number, target, why))
        else:
            print('test readme/links %-34s ... ok' % path)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
