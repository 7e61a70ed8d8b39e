/* publish: the list writes of a published model (model/keys.h names the keys). */
#include <stdio.h>

#include "publish.h"

#define LIST_MAX 1000

int publish_list(struct redis_conn *c, const char *key, const uint32_t *items,
		 const float *scores, int n, struct buf *err)
{
	const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" }, *del[] = { "DEL", key };
	const char *argv[2 + 2 * LIST_MAX];
	char num[LIST_MAX][2][24];
	int ret;

	if (n > LIST_MAX)
		n = LIST_MAX;
	argv[0] = "ZADD";
	argv[1] = key;
	for (int i = 0; i < n; i++) {
		snprintf(num[i][0], sizeof(num[i][0]), "%.7g", scores[i]);
		snprintf(num[i][1], sizeof(num[i][1]), "%u", items[i]);
		argv[2 + 2 * i] = num[i][0];
		argv[3 + 2 * i] = num[i][1];
	}
	if ((ret = redis_append(c, 1, multi, NULL, err)) ||
	    (ret = redis_append(c, 2, del, NULL, err)) ||
	    (n > 0 && (ret = redis_append(c, 2 + 2 * n, argv, NULL, err))) ||
	    (ret = redis_append(c, 1, exec, NULL, err)))
		return ret;
	return 0;
}
