/*
 * filter_parse.c
 *		Benchmark: SCIM filter parse + resolve + SQL generation in the core.
 *
 * The machine is shared and noisy, so an absolute rate means little on its
 * own.  Each filter is measured against a same-run baseline: json-c parsing
 * (json_tokener_parse + json_object_put) of a small JSON document carrying
 * the same information.  Baseline and subject rounds alternate, each side's
 * figure is the median of its rounds, and the result printed is the ratio
 * subject/baseline, with the absolute rates for information.  Single
 * threaded; nothing here passes or fails on timing.
 *
 * Usage: filter_parse [ROUNDS [ROUND_MS]]
 *		ROUNDS defaults to 9, ROUND_MS to 150.  The registry is the one the
 *		unit tests use (test/unit/fixtures.h, built with SCIM_SOURCE_DIR).
 *		With FILTER_PARSE_PROFILE=N in the environment it instead runs only
 *		the subject (parse+resolve+sql), N times per filter, untimed: a
 *		clean target for valgrind --tool=callgrind or perf record;
 *		FILTER_PARSE_CASE=eq|and_or|value_path limits that to one filter.
 *
 * Output: one "filter:" block per filter, then machine-readable lines
 *		RESULT <name> subject_per_s=<r> baseline_per_s=<r> ratio=<r>
 * that bench/run.sh collects into its summary.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "error.h"
#include "filter.h"
#include "fixtures.h"
#include "schema.h"
#include "strbuf.h"

typedef struct Case
{
	const char *name;
	const char *filter;
	const char *json;			/* the same information as a JSON document */
} Case;

static const Case cases[] = {
	{"eq", "userName eq \"bjensen\"",
	"{\"attribute\":\"userName\",\"op\":\"eq\",\"value\":\"bjensen\"}"},
	{"and_or", "userName eq \"a\" and (title pr or active eq true)",
		"{\"op\":\"and\",\"left\":{\"attribute\":\"userName\",\"op\":\"eq\",\"value\":\"a\"},"
		"\"right\":{\"op\":\"or\",\"left\":{\"attribute\":\"title\",\"op\":\"pr\"},"
	"\"right\":{\"attribute\":\"active\",\"op\":\"eq\",\"value\":true}}}"},
	{"value_path", "emails[type eq \"work\" and value co \"@example.com\"]",
		"{\"attribute\":\"emails\",\"filter\":{\"op\":\"and\","
		"\"left\":{\"attribute\":\"type\",\"op\":\"eq\",\"value\":\"work\"},"
	"\"right\":{\"attribute\":\"value\",\"op\":\"co\",\"value\":\"@example.com\"}}}"},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* What one timed iteration does. */
typedef enum Stage
{
	STAGE_JSONC,				/* baseline */
	STAGE_PARSE,				/* ScimFilterParse only (information) */
	STAGE_RESOLVE,				/* parse + resolve (information) */
	STAGE_FULL					/* parse + resolve + SQL: the subject */
} Stage;

typedef struct Ctx
{
	const ScimRegistry *reg;
	const ScimResourceType *type;
	ScimArena  *arena;
	ScimBuf		buf;
	size_t		sink;			/* defeats dead-code elimination */
} Ctx;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, const ScimError *err)
{
	fprintf(stderr, "filter_parse: %s: %s%s%s\n", what, err ? err->message : "failed",
			err && err->detail[0] ? ": " : "", err ? err->detail : "");
	exit(1);
}

/* One iteration of a stage; returns something that depends on the work. */
static inline size_t
run_once(Ctx *c, Stage stage, const char *text, size_t len)
{
	ScimError	err;
	ScimFilter *f;
	size_t		r;

	if (stage == STAGE_JSONC)
	{
		json_object *obj = json_tokener_parse(text);

		if (obj == NULL)
			die("json_tokener_parse", NULL);
		r = (size_t) json_object_object_length(obj);
		json_object_put(obj);
		return r;
	}
	ScimArenaReset(c->arena);
	f = ScimFilterParse(c->arena, text, len, NULL, &err);
	if (f == NULL)
		die("ScimFilterParse", &err);
	if (stage == STAGE_PARSE)
		return (size_t) f->kind;
	if (!ScimFilterResolve(f, c->reg, c->type, text, &err))
		die("ScimFilterResolve", &err);
	if (stage == STAGE_RESOLVE)
		return (size_t) f->resolved;
	ScimBufReset(&c->buf);
	if (!ScimFilterToSql(f, "data", &c->buf, &err) || c->buf.oom)
		die("ScimFilterToSql", &err);
	return c->buf.len;
}

/* Run "iters" iterations; returns the elapsed seconds. */
static double
timed(Ctx *c, Stage stage, const char *text, size_t len, long iters)
{
	double		t0 = now_s();

	for (long i = 0; i < iters; i++)
		c->sink += run_once(c, stage, text, len);
	return now_s() - t0;
}

/* Iterations that take about ms milliseconds for this stage. */
static long
calibrate(Ctx *c, Stage stage, const char *text, size_t len, double ms)
{
	long		iters = 1000;

	for (;;)
	{
		double		t = timed(c, stage, text, len, iters);

		if (t >= 0.02)
			return (long) (iters * (ms / 1000.0) / t) + 1;
		iters *= 4;
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	int			rounds = argc > 1 ? atoi(argv[1]) : 9;
	double		round_ms = argc > 2 ? atof(argv[2]) : 150;
	static const Stage order[] = {STAGE_JSONC, STAGE_FULL, STAGE_PARSE, STAGE_RESOLVE};
	static const char *stage_name[] = {"json-c", "parse", "parse+resolve", "parse+resolve+sql"};
	Ctx			c;
	ScimRegistry *reg;

	if (rounds < 1 || round_ms <= 0)
	{
		fprintf(stderr, "usage: filter_parse [ROUNDS [ROUND_MS]]\n");
		return 2;
	}
	reg = fixture_registry();
	c.reg = reg;
	c.type = ScimRegistryFindType(reg, "User", 4);
	c.arena = ScimArenaCreate();
	c.sink = 0;
	ScimBufInit(&c.buf);
	if (c.type == NULL || c.arena == NULL)
		die("setup", NULL);

	if (getenv("FILTER_PARSE_PROFILE") != NULL)
	{
		long		n = atol(getenv("FILTER_PARSE_PROFILE"));
		const char *only = getenv("FILTER_PARSE_CASE");

		for (size_t k = 0; k < N_CASES; k++)
		{
			size_t		len = strlen(cases[k].filter);

			if (only != NULL && strcmp(only, cases[k].name) != 0)
				continue;
			for (long i = 0; i < n; i++)
				c.sink += run_once(&c, STAGE_FULL, cases[k].filter, len);
			printf("profiled %ld x %s (sink %zu)\n", n, cases[k].name, c.sink);
		}
		return 0;
	}

	printf("filter_parse: single thread, %d alternating rounds of ~%.0f ms per stage, medians\n",
		   rounds, round_ms);
	for (size_t k = 0; k < N_CASES; k++)
	{
		const Case *cs = &cases[k];
		const char *texts[4];
		size_t		lens[4];
		long		iters[4];
		double		rate[4][64];
		double		med[4];

		if (rounds > 64)
			rounds = 64;
		for (int s = 0; s < 4; s++)
		{
			texts[s] = s == STAGE_JSONC ? cs->json : cs->filter;
			lens[s] = strlen(texts[s]);
			run_once(&c, (Stage) s, texts[s], lens[s]);	/* fail early, warm up */
			iters[s] = calibrate(&c, (Stage) s, texts[s], lens[s], round_ms);
		}
		for (int r = 0; r < rounds; r++)
			for (int i = 0; i < 4; i++)
			{
				/* alternate which side goes first, so drift hits both */
				Stage		s = order[(r % 2 && i < 2) ? 1 - i : i];
				double		t = timed(&c, s, texts[s], lens[s], iters[s]);

				rate[s][r] = iters[s] / t;
			}
		for (int s = 0; s < 4; s++)
			med[s] = median(rate[s], rounds);

		ScimArenaReset(c.arena);
		run_once(&c, STAGE_FULL, cs->filter, lens[STAGE_FULL]);
		printf("\nfilter: %s\n  sql:  %s\n  json: %s\n", cs->filter, c.buf.data, cs->json);
		for (int s = 0; s < 4; s++)
			printf("  %-18s %12.0f /s  %8.1f ns each\n", stage_name[s], med[s], 1e9 / med[s]);
		printf("  ratio subject/baseline (parse+resolve+sql vs json-c): %.2f\n",
			   med[STAGE_FULL] / med[STAGE_JSONC]);
		printf("RESULT %s subject_per_s=%.0f baseline_per_s=%.0f ratio=%.2f "
			   "parse_per_s=%.0f resolve_per_s=%.0f\n",
			   cs->name, med[STAGE_FULL], med[STAGE_JSONC], med[STAGE_FULL] / med[STAGE_JSONC],
			   med[STAGE_PARSE], med[STAGE_RESOLVE]);
	}
	if (c.sink == 42)
		printf("\n");
	ScimBufFree(&c.buf);
	ScimArenaFree(c.arena);
	ScimRegistryFree(reg);
	return 0;
}
