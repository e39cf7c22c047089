/**
 * @file agentdb_eval.h  Running the agentdb scripts from a test, with synchronous hiredis: EVAL
 *                       of the compiled-in source, ARGV = prefix "dl:", now, then the strings.
 */
#ifndef DESKLINE_AGENTDB_EVAL_H
#define DESKLINE_AGENTDB_EVAL_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include <check.h>
#include <hiredis/hiredis.h>

#include "deskline/agentdb.h"

#define AGENTDB_TEST_PREFIX "dl:"
#define AGENTDB_TEST_MAX_ARGS 64

/** EVAL script @p s on @p c with ARGV prefix, now, then the strings in @p ap (NULL ends). */
static inline redisReply *agentdb_vrun(redisContext *c, enum agentdb_script s, mstime_t now,
				       va_list ap)
{
	const char *argv[AGENTDB_TEST_MAX_ARGS];
	char nowbuf[24];
	int argc = 0;
	const char *a;

	snprintf(nowbuf, sizeof(nowbuf), "%" PRIu64, now);
	argv[argc++] = "EVAL";
	argv[argc++] = agentdb_script_source(s);
	argv[argc++] = "0";
	argv[argc++] = AGENTDB_TEST_PREFIX;
	argv[argc++] = nowbuf;
	while ((a = va_arg(ap, const char *)) != NULL && argc < AGENTDB_TEST_MAX_ARGS)
		argv[argc++] = a;
	return redisCommandArgv(c, argc, argv, NULL);
}

/** As agentdb_vrun, with the strings as arguments (NULL-terminated); fails the test when no
 *  reply comes. The caller frees the reply. */
static inline redisReply *run_on(redisContext *c, enum agentdb_script s, mstime_t now, ...)
{
	va_list ap;

	va_start(ap, now);
	redisReply *r = agentdb_vrun(c, s, now, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "%s: no reply", agentdb_script_name(s));
	return r;
}

#endif
