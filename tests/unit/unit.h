/**
 * @file unit.h  Shared bits of the Check unit tests.
 */
#ifndef DESKLINE_UNIT_H
#define DESKLINE_UNIT_H

#include <check.h>
#include <stdlib.h>

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

/**
 * Run a suite and turn its result into an exit status (0 = every test passed).
 *
 * @param s  suite (ownership passes to the runner)
 */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
