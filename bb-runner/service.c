/*
 * The Runner service: decodes each call's request (action.c), carries it
 * out (execute.c) and logs the outcome once. Handlers run on a call's own
 * thread and may block; they share nothing but the read-only
 * configuration.
 *
 * Must never answer OK for a run that did not happen, and never log a
 * request's bytes beyond what action.c and reply_set() let through.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "action.h"
#include "log.h"
#include "service.h"

static void run_handler(void *userdata, const uint8_t *data, size_t len,
			struct cancel *cancel, struct reply *reply)
{
	const struct service *svc = userdata;
	struct action *a = NULL;
	char why[512] = "", shown[128];
	int r;

	r = action_from_bytes(data, len, &a, why, sizeof(why));
	if (r == -ENOMEM) {
		reply_set(reply, GRPC_STATUS_RESOURCE_EXHAUSTED,
			  "out of memory");
		log_warning("Run: out of memory");
		return;
	}
	if (r < 0) {
		reply_set(reply, GRPC_STATUS_INVALID_ARGUMENT, "%s", why);
		log_info("Run refused: %s", reply->message);
		return;
	}
	execute_run(&svc->exec, a, cancel, reply);
	if (reply->code == GRPC_STATUS_OK)
		log_debug("Run %s: done",
			  reply_printable(a->input_root, shown, sizeof(shown)));
	else
		log_info("Run %s: %s",
			 reply_printable(a->input_root, shown, sizeof(shown)),
			 reply->message);
	action_free(a);
}

static void readiness_handler(void *userdata, const uint8_t *data, size_t len,
			      struct cancel *cancel, struct reply *reply)
{
	const struct service *svc = userdata;
	char why[512] = "", *path = NULL;
	int r;

	r = action_readiness_path(data, len, &path, why, sizeof(why));
	if (r < 0) {
		reply_set(reply,
			  r == -ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED
				       : GRPC_STATUS_INVALID_ARGUMENT,
			  "%s", r == -ENOMEM ? "out of memory" : why);
		return;
	}
	execute_check_readiness(&svc->exec, path, cancel, reply);
	if (reply->code != GRPC_STATUS_OK)
		log_info("CheckReadiness: %s", reply->message);
	free(path);
}

const struct server_method service_methods[] = {
    {"/buildbarn.runner.Runner/Run", run_handler},
    {"/buildbarn.runner.Runner/CheckReadiness", readiness_handler},
};
const size_t service_n_methods = ELEMENTSOF(service_methods);
