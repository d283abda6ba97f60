/*
 * Raw yescrypt cost for script/bench: verifications per second at a
 * given cost on N threads (default: all cores) for S seconds.
 *   yescrypt-rate COST [THREADS] [SECONDS]
 */
#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char hash[256];
static double seconds = 3;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
run(void *arg)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	double end = now() + seconds;
	long *count = arg;

	if (cd == NULL)
		return NULL;
	while (now() < end) {
		char *h = crypt_r("correct horse battery staple", hash, cd);

		if (h == NULL || strcmp(h, hash) != 0)
			abort();
		(*count)++;
	}
	free(cd);
	return NULL;
}

int
main(int argc, char **argv)
{
	unsigned long cost = argc > 1 ? strtoul(argv[1], NULL, 10) : 5;
	long threads = argc > 2 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t t[256];
	long counts[256] = { 0 }, total = 0, i;
	struct crypt_data cd;
	char *salt, *h;
	double t0;

	if (argc > 3)
		seconds = atof(argv[3]);
	if (threads < 1 || threads > 256)
		threads = 1;
	memset(&cd, 0, sizeof(cd));
	if ((salt = crypt_gensalt_ra("$y$", cost, NULL, 0)) == NULL ||
	    (h = crypt_r("correct horse battery staple", salt, &cd)) == NULL)
		return 1;
	snprintf(hash, sizeof(hash), "%s", h);
	free(salt);
	t0 = now();
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run, &counts[i]);
	for (i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += counts[i];
	}
	printf("%.1f\n", (double)total / (now() - t0));
	return 0;
}
