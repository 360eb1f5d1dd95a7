/* engine_diff.c - Myers' O(ND) diff on lines, after trimming the common
 * head and tail (config edits touch a few lines of large files). When the
 * middle is too different to diff within the memory budget, it is shown as
 * one block replaced by another: still a correct diff, just a coarse one. */
#include "apply/engine_diff.h"

#include <stdlib.h>
#include <string.h>

#define CONTEXT 3
#define TRACE_BUDGET ((size_t)8 << 20) /* ints kept for the backtrack */

typedef struct line {
	const uint8_t *p;
	size_t len; /* with its line ending */
} line;

typedef struct lines {
	line *v;
	size_t n;
} lines;

static int split(const uint8_t *s, size_t len, lines *out)
{
	size_t i, start = 0, n = 0;

	out->v = NULL;
	out->n = 0;
	if (s == NULL || len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\n')
			n++;
	out->v = malloc((n + 1) * sizeof *out->v);
	if (out->v == NULL)
		return -1;
	for (i = 0; i < len; i++)
		if (s[i] == '\n') {
			out->v[out->n].p = s + start;
			out->v[out->n++].len = i + 1 - start;
			start = i + 1;
		}
	if (start < len) {
		out->v[out->n].p = s + start;
		out->v[out->n++].len = len - start;
	}
	return 0;
}

static int same(const line *a, const line *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* Edit ops: 'E' equal, 'D' delete a[i], 'I' insert b[j]. */
typedef struct ops {
	char *v;
	size_t n;
} ops;

/* Myers on a[0..n) x b[0..m); writes ops in order. -1 no memory, 1 budget. */
static int myers(const line *a, size_t n, const line *b, size_t m, ops *o)
{
	size_t max = n + m, w = 2 * max + 1, d, cap;
	long *v, *trace;
	long k, x, y;
	size_t pos;
	int found = 0;

	if (max == 0)
		return 0;
	cap = TRACE_BUDGET / w;
	if (cap < 2)
		return 1;
	if (cap > max + 1)
		cap = max + 1;
	trace = malloc(cap * w * sizeof *trace);
	if (trace == NULL)
		return -1;
	v = trace;
	memset(v, 0, w * sizeof *v);
	for (d = 0; d < cap && !found; d++) {
		long *cur = trace + d * w;
		const long *prev = d > 0 ? trace + (d - 1) * w : NULL;
		if (d > 0)
			memcpy(cur, prev, w * sizeof *cur);
		for (k = -(long)d; k <= (long)d; k += 2) {
			long off = k + (long)max;
			if (d == 0)
				x = 0;
			else if (k == -(long)d || (k != (long)d && prev[off - 1] < prev[off + 1]))
				x = prev[off + 1];
			else
				x = prev[off - 1] + 1;
			y = x - k;
			while ((size_t)x < n && (size_t)y < m && same(&a[x], &b[y])) {
				x++;
				y++;
			}
			cur[off] = x;
			if ((size_t)x >= n && (size_t)y >= m) {
				found = 1;
				break;
			}
		}
	}
	if (!found) {
		free(trace);
		return 1;
	}
	/* Backtrack from (n, m) through the saved frontiers. */
	o->v = malloc(max + 1);
	if (o->v == NULL) {
		free(trace);
		return -1;
	}
	pos = max + 1;
	x = (long)n;
	y = (long)m;
	for (d = d - 1;; d--) {
		long off, px, py, pk;
		k = x - y;
		off = k + (long)max;
		if (d == 0) {
			while (x > 0 && y > 0) {
				o->v[--pos] = 'E';
				x--;
				y--;
			}
			break;
		}
		{
			const long *prev = trace + (d - 1) * w;
			if (k == -(long)d || (k != (long)d && prev[off - 1] < prev[off + 1]))
				pk = k + 1;
			else
				pk = k - 1;
			px = prev[pk + (long)max];
			py = px - pk;
		}
		while (x > px && y > py) {
			o->v[--pos] = 'E';
			x--;
			y--;
		}
		o->v[--pos] = (x == px) ? 'I' : 'D';
		x = px;
		y = py;
	}
	memmove(o->v, o->v + pos, max + 1 - pos);
	o->n = max + 1 - pos;
	free(trace);
	return 0;
}

static void put_line(emg_sbuf *out, char tag, const line *l)
{
	emg_sbuf_putn(out, &tag, 1);
	emg_sbuf_putn(out, (const char *)l->p, l->len);
	if (l->len == 0 || l->p[l->len - 1] != '\n')
		emg_sbuf_puts(out, "\n\\ No newline at end of file\n");
}

/* Writes hunks for the full op list over a and b. */
static void hunks(const lines *a, const lines *b, const ops *o, emg_sbuf *out)
{
	size_t i = 0;

	while (i < o->n) {
		size_t s, e, j, ai = 0, bi = 0, a0, b0, an = 0, bn = 0, last;
		if (o->v[i] == 'E') {
			i++;
			continue;
		}
		/* A hunk runs from CONTEXT lines before its first change to
		 * CONTEXT lines after its last one; changes closer than
		 * 2*CONTEXT equal lines share a hunk. */
		s = i > CONTEXT ? i - CONTEXT : 0;
		last = i;
		for (e = i; e < o->n; e++) {
			if (o->v[e] != 'E')
				last = e;
			else if (e - last > 2 * CONTEXT)
				break;
		}
		e = last + 1 + CONTEXT < o->n ? last + 1 + CONTEXT : o->n;
		for (j = 0; j < s; j++) {
			if (o->v[j] != 'I')
				ai++;
			if (o->v[j] != 'D')
				bi++;
		}
		a0 = ai;
		b0 = bi;
		for (j = s; j < e; j++) {
			if (o->v[j] != 'I')
				an++;
			if (o->v[j] != 'D')
				bn++;
		}
		emg_sbuf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", an ? a0 + 1 : a0, an, bn ? b0 + 1 : b0, bn);
		for (j = s; j < e; j++) {
			if (o->v[j] == 'E') {
				put_line(out, ' ', &a->v[ai++]);
				bi++;
			} else if (o->v[j] == 'D') {
				put_line(out, '-', &a->v[ai++]);
			} else {
				put_line(out, '+', &b->v[bi++]);
			}
		}
		i = e;
	}
}

int emg_diff_unified(const char *name, const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen, emg_sbuf *out)
{
	lines la, lb;
	ops mid = {NULL, 0}, all = {NULL, 0};
	size_t head = 0, tail = 0, i, k;
	int rc = -1, r;

	if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0) && (a == NULL) == (b == NULL))
		return 0;
	if (split(a, alen, &la) != 0)
		return -1;
	if (split(b, blen, &lb) != 0) {
		free(la.v);
		return -1;
	}
	while (head < la.n && head < lb.n && same(&la.v[head], &lb.v[head]))
		head++;
	while (tail < la.n - head && tail < lb.n - head &&
	       same(&la.v[la.n - 1 - tail], &lb.v[lb.n - 1 - tail]))
		tail++;
	r = myers(la.v + head, la.n - head - tail, lb.v + head, lb.n - head - tail, &mid);
	if (r < 0)
		goto out;
	if (r > 0) { /* over budget: replace the whole middle */
		mid.n = (la.n - head - tail) + (lb.n - head - tail);
		mid.v = malloc(mid.n + 1);
		if (mid.v == NULL)
			goto out;
		memset(mid.v, 'D', la.n - head - tail);
		memset(mid.v + (la.n - head - tail), 'I', lb.n - head - tail);
	}
	all.n = head + mid.n + tail;
	all.v = malloc(all.n + 1);
	if (all.v == NULL)
		goto out;
	k = 0;
	for (i = 0; i < head; i++)
		all.v[k++] = 'E';
	if (mid.n)
		memcpy(all.v + k, mid.v, mid.n);
	k += mid.n;
	for (i = 0; i < tail; i++)
		all.v[k++] = 'E';
	/* A tab ends a name with spaces ("Program Files"), as git does:
	 * patch(1) otherwise stops reading the name at the first space. */
	emg_sbuf_printf(out, "--- %s%s%s\n+++ %s%s%s\n", a ? "a/" : "", a ? name : "/dev/null",
			a && strchr(name, ' ') ? "\t" : "", b ? "b/" : "", b ? name : "/dev/null",
			b && strchr(name, ' ') ? "\t" : "");
	hunks(&la, &lb, &all, out);
	rc = out->oom ? -1 : 0;
out:
	free(mid.v);
	free(all.v);
	free(la.v);
	free(lb.v);
	return rc;
}
