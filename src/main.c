/**
 * @file main.c  deskline: arguments, configuration check, signals (SIGHUP reload, SIGTERM drain),
 *               and the su_root loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/nua.h>

#include "config.h"
#include "deskline/call.h"
#include "deskline/cdr.h"
#include "deskline/heap.h"
#include "deskline/log.h"
#include "deskline/media.h"
#include "deskline/presence.h"
#include "deskline/registrar.h"
#include "deskline/calendar.h"
#include "deskline/outbox.h"
#include "deskline/ticket.h"
#include "deskline/sip.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/deskline/deskline.conf"
/** How often freed heap pages go back to the system (heap.h): ms. */
#define HEAP_TRIM_INTERVAL_MS 10000
/**
 * Calls set up in one trim interval above which its trim is left out (heap.h): 50 calls/s keep
 * some 64 MB of SIP transactions (40 KB a call for 32 s), and a trim holds the allocator about
 * 1 ms per MB it gives back (docs/BENCHMARKS.md, 2026-12-08) — three packet times; a
 * department's own peak is a few calls a second.
 */
#define HEAP_TRIM_BUSY_CALLS 500

static int signal_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;
	if (write(signal_pipe[1], &c, 1) < 0) {
		/* A full pipe already holds a wakeup. */
	}
	errno = saved;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: deskline [-c FILE] [-t] [-p PIDFILE] [-h] [-V]\n"
		"  -c FILE     configuration file (default %s)\n"
		"  -t          check the configuration and its prompts, then exit\n"
		"  -p PIDFILE  write the process id to PIDFILE\n"
		"  -V          print the version\n"
		"Signals: HUP reloads the configuration (a bad file is refused, the old one kept);\n"
		"TERM stops taking calls and exits when the last call ends (a second TERM hangs up).\n",
		DEFAULT_CONFIG);
}

static void print_errors(const struct dl_config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msgs[i]);
}

/** `deskline -t`: the same loader the daemon uses, prompts included. */
static int check_config(const char *path)
{
	struct dl_config_errors errs = { 0 };
	struct dl_runtime *rt = NULL;
	int err = runtime_load(&rt, path, &errs);

	if (err) {
		print_errors(&errs);
		if (errs.n == 0)
			fprintf(stderr, "%s: %s\n", path, strerror(err));
		fprintf(stderr, "%s: configuration has errors\n", path);
		config_errors_clear(&errs);
		return 1;
	}
	config_errors_clear(&errs);
	runtime_unref(rt);
	printf("%s: configuration OK\n", path);
	return 0;
}

static int open_cdr(struct app *app)
{
	struct cdr *cdr = NULL;
	const char *path = app->rt->cfg->cdr_file;
	int err = cdr_open(&cdr, path);

	if (err) {
		log_err(NULL, "cannot open CDR file %s: %s", path, strerror(err));
		return err;
	}
	cdr_close(app->cdr);
	app->cdr = cdr;
	return 0;
}

static void reload(struct app *app, const char *path)
{
	struct dl_config_errors errs = { 0 };
	struct dl_runtime *rt = NULL;
	int err = runtime_load(&rt, path, &errs);

	if (err) {
		for (size_t i = 0; i < errs.n; i++)
			log_err(NULL, "%s", errs.msgs[i]);
		log_err(NULL, "reload refused (%s); the running configuration is kept",
			strerror(err));
		config_errors_clear(&errs);
		return;
	}
	config_errors_clear(&errs);

	const struct dl_config *cfg = rt->cfg;
	err = media_engine_configure(app->media, cfg->media.address, cfg->media.port_min,
				     cfg->media.port_max, cfg->media.ptime_ms);
	if (err) {
		log_err(NULL, "reload refused: media settings: %s", strerror(err));
		runtime_unref(rt);
		return;
	}
	if (cfg->media.workers != media_engine_workers(app->media))
		log_warn(NULL, "media.workers changed: takes effect at the next restart");
	if (cfg->media.io_uring != app->rt->cfg->media.io_uring)
		log_warn(NULL, "media.io_uring changed: takes effect at the next restart");
	bool listen_changed = cfg->n_listen != app->rt->cfg->n_listen;
	for (size_t i = 0; !listen_changed && i < cfg->n_listen; i++)
		listen_changed = strcmp(cfg->listen[i], app->rt->cfg->listen[i]) != 0;
	if (listen_changed)
		log_warn(NULL, "sip.listen changed: takes effect at the next restart");
	const struct dl_config *old = app->rt->cfg;
	if (strcmp(cfg->tickets.spool_dir, old->tickets.spool_dir) != 0 ||
	    strcmp(cfg->smtp.url, old->smtp.url) != 0 || strcmp(cfg->smtp.from, old->smtp.from) != 0 ||
	    cfg->smtp.starttls != old->smtp.starttls ||
	    (cfg->smtp.username == NULL) != (old->smtp.username == NULL) ||
	    (cfg->smtp.username && strcmp(cfg->smtp.username, old->smtp.username) != 0) ||
	    (cfg->smtp.password && old->smtp.password &&
	     strcmp(cfg->smtp.password, old->smtp.password) != 0))
		log_warn(NULL, "tickets.spool_dir or smtp changed: takes effect at the next restart");

	runtime_unref(app->rt);
	app->rt = rt;
	presence_configure(app->presence, rt->cfg);
	tickets_configure(app->tickets, rt->cfg);
	if (calendar_use_timezone(&rt->cfg->calendar) != 0)
		log_warn(NULL, "time zone %s unknown", rt->cfg->calendar.timezone);
	log_init("deskline", cfg->log_level, cfg->log_syslog);
	open_cdr(app);
	log_notice(NULL, "configuration reloaded from %s (%zu calls keep the old one)", path,
		   app->n_calls);
}

/** Redis (re)connected: spooled tickets go in, the id pool is refilled. */
static void tickets_up(void *arg)
{
	tickets_redis_up((struct tickets *)arg);
}

/** The mail spool lives in <tickets.spool_dir>/mail. */
static int open_outbox(struct app *app)
{
	const struct dl_config *cfg = app->rt->cfg;
	char dir[1024];
	struct outbox_smtp smtp = {
		.url = cfg->smtp.url,
		.from = cfg->smtp.from,
		.username = cfg->smtp.username,
		.password = cfg->smtp.password,
		.starttls = cfg->smtp.starttls,
		.timeout_ms = cfg->smtp.timeout_ms,
	};

	if (snprintf(dir, sizeof(dir), "%s/mail", cfg->tickets.spool_dir) >= (int)sizeof(dir))
		return ENAMETOOLONG;
	return outbox_alloc(&app->outbox, dir, &smtp);
}

/** The heartbeat's list of this node's calls with a clerk (presence_calls_h). */
static size_t live_calls(const char **ids, size_t max, void *arg)
{
	return call_live_ids((struct app *)arg, ids, max);
}

struct signal_ctx {
	struct app *app;
	const char *config_path;
	unsigned terms;
};

static int signal_readable(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	struct signal_ctx *sc = (struct signal_ctx *)arg;
	unsigned char sigs[16];
	ssize_t n;

	(void)magic;
	(void)w;
	while ((n = read(signal_pipe[0], sigs, sizeof(sigs))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (sigs[i] == SIGHUP) {
				reload(sc->app, sc->config_path);
			} else if (sigs[i] == SIGTERM || sigs[i] == SIGINT) {
				sc->terms++;
				if (sc->terms == 1) {
					log_notice(NULL, "stopping: new calls refused, %zu calls "
						   "left (signal again to hang up)",
						   sc->app->n_calls);
					sc->app->draining = true;
				} else {
					log_notice(NULL, "hanging up %zu calls", sc->app->n_calls);
					call_hangup_all(sc->app);
				}
			}
		}
	}
	return 0;
}

/**
 * sofia-sip's own diagnostics (nta, tport, nua) go through our log at debug level instead of
 * straight to standard error: they come in pieces, so they are joined into lines first.
 */
static void sofia_logger(void *stream, char const *fmt, va_list ap)
{
	static char line[1024];
	static size_t len;
	char piece[1024];
	int n = vsnprintf(piece, sizeof(piece), fmt, ap);

	(void)stream;
	if (n < 0)
		return;
	for (const char *c = piece; *c; c++) {
		if (*c == '\n' || len + 1 >= sizeof(line)) {
			line[len] = '\0';
			if (len)
				dl_log(LOG_DEBUG, NULL, "sip stack: %s", line);
			len = 0;
			if (*c == '\n')
				continue;
		}
		line[len++] = *c;
	}
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return errno;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		return errno;
	return 0;
}

/** Each call leg holds two RTP sockets: ask for as many descriptors as the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	const char *config_path = DEFAULT_CONFIG;
	const char *pidfile = NULL;
	bool test_only = false;
	struct app app = { 0 };
	struct dl_config_errors errs = { 0 };
	su_wait_t sigwait;
	int sigreg = -1;
	struct heap_trimmer *trimmer = NULL;
	struct signal_ctx sc = { 0 };
	int c, err, rc = 1;

	while ((c = getopt(argc, argv, "c:tp:hV")) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 't': test_only = true; break;
		case 'p': pidfile = optarg; break;
		case 'V': printf("deskline %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default:  usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (test_only)
		return check_config(config_path);

	log_init("deskline", LOG_INFO, false);
	err = runtime_load(&app.rt, config_path, &errs);
	if (err) {
		print_errors(&errs);
		fprintf(stderr, "%s: configuration has errors, not starting\n", config_path);
		config_errors_clear(&errs);
		return 1;
	}
	config_errors_clear(&errs);
	const struct dl_config *cfg = app.rt->cfg;
	log_init("deskline", cfg->log_level, cfg->log_syslog);
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);

	if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		log_err(NULL, "pipe: %s", strerror(errno));
		goto out;
	}
	su_init();
	su_log_redirect(su_log_default, sofia_logger, NULL);
	app.root = su_root_create(NULL);
	if (!app.root) {
		log_err(NULL, "cannot create the event loop");
		goto out_su;
	}
	/* One loop for everything (docs/ARCHITECTURE.md): without this the NUA stack gets a thread
	 * of its own and every SIP event crosses threads — measured at about a fifth of the CPU. */
	su_root_threading(app.root, 0);
	err = media_engine_alloc(&app.media, app.root, cfg->media.address, cfg->media.port_min,
				 cfg->media.port_max, cfg->media.ptime_ms, cfg->media.workers,
				 cfg->media.io_uring);
	if (err) {
		log_err(NULL, "media: %s", strerror(err));
		goto out_root;
	}
	if (open_cdr(&app) != 0)
		goto out_media;
	if (calendar_use_timezone(&cfg->calendar) != 0)
		log_warn(NULL, "time zone %s unknown", cfg->calendar.timezone);
	err = presence_alloc(&app.presence, app.root, app.rt->cfg, live_calls, &app);
	if (!err)
		err = registrar_alloc(&app.registrar, app.root, app.presence);
	if (err) {
		log_err(NULL, "presence/registrar: %s", strerror(err));
		goto out_sip;
	}
	err = open_outbox(&app);
	if (!err)
		err = tickets_alloc(&app.tickets, app.root, presence_redis(app.presence), app.outbox,
				    app.rt->cfg, app.rt->cfg->node_id);
	if (err) {
		log_err(NULL, "tickets/outbox in %s: %s", cfg->tickets.spool_dir, strerror(err));
		goto out_sip;
	}
	presence_on_up(app.presence, tickets_up, app.tickets);
	if (sip_start(&app) != 0)
		goto out_sip;
	if (call_sweep_start(&app) != 0)
		goto out_sip;
	err = heap_trimmer_start(&trimmer, HEAP_TRIM_INTERVAL_MS, HEAP_TRIM_BUSY_CALLS);
	if (err)
		log_warn(NULL, "heap trimmer not started (%s): freed memory stays resident",
			 strerror(err));
	app.trimmer = trimmer;

	sc.app = &app;
	sc.config_path = config_path;
	su_wait_create(&sigwait, signal_pipe[0], SU_WAIT_IN);
	sigreg = su_root_register(app.root, &sigwait, signal_readable, (su_wakeup_arg_t *)&sc, 0);
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (pidfile && (err = write_pidfile(pidfile)) != 0)
		log_warn(NULL, "cannot write %s: %s", pidfile, strerror(err));
	log_notice(NULL, "deskline %s started with %s; department numbers: %zu, menus: %zu, "
		   "media workers: %u, RTP through %s", PACKAGE_VERSION, config_path, cfg->n_numbers,
		   cfg->n_menus, cfg->media.workers,
		   media_engine_io_uring(app.media) ? "io_uring"
		   : cfg->media.io_uring ? "epoll (io_uring unavailable)" : "epoll");

	su_root_run(app.root);
	rc = 0;
	log_notice(NULL, "stopped after %llu calls", (unsigned long long)app.calls_total);
	if (pidfile)
		unlink(pidfile);
 out_sip:
	if (trimmer) {
		struct heap_trim_stats hs;
		heap_trimmer_stats(trimmer, &hs);
		log_notice(NULL, "heap: %llu trims gave memory back, longest %llu us; %llu left out "
			   "while calls came in faster than %u in %u s", (unsigned long long)hs.released,
			   (unsigned long long)hs.max_us, (unsigned long long)hs.skipped,
			   HEAP_TRIM_BUSY_CALLS, HEAP_TRIM_INTERVAL_MS / 1000);
		app.trimmer = NULL;
		heap_trimmer_stop(trimmer);
	}
	if (sigreg >= 0)
		su_root_deregister(app.root, sigreg);
	if (app.sweep)
		su_timer_destroy(app.sweep);
	sip_destroy(&app);
	registrar_free(app.registrar);
	if (app.presence)
		presence_on_up(app.presence, NULL, NULL);
	tickets_free(app.tickets);
	presence_free(app.presence);
	outbox_free(app.outbox);
	cdr_close(app.cdr);
 out_media:
	media_engine_free(app.media);
 out_root:
	su_root_destroy(app.root);
 out_su:
	su_deinit();
 out:
	runtime_unref(app.rt);
	return rc;
}
