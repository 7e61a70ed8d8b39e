/* libcurl: curl_global_init once per process, behind a pthread_once. */
#include "clients/libcurl.h"

#include <curl/curl.h>
#include <pthread.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void libcurl_init(void)
{
	pthread_once(&once, init);
}
