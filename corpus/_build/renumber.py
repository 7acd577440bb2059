"""Renumber articles in a source file: lines starting with 第X条 or 第<n>条 get sequential Chinese numerals."""
import re, sys

def cn(n):
    d = '零一二三四五六七八九'
    if n < 10:
        return d[n]
    if n < 20:
        return '十' + (d[n % 10] if n % 10 else '')
    return d[n // 10] + '十' + (d[n % 10] if n % 10 else '')

for p in sys.argv[1:]:
    s = open(p, encoding='utf-8').read()
    i = 0
    out = []
    for line in s.split('\n'):
        m = re.match(r'^第([一二三四五六七八九十]+|X)条　', line)
        if m:
            i += 1
            line = '第' + cn(i) + '条　' + line[m.end():]
        out.append(line)
    open(p, 'w', encoding='utf-8').write('\n'.join(out))
    print(p, i, 'articles')
