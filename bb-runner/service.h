/*
 * The buildbarn.runner.Runner service: its two methods as server
 * handlers.
 */
#pragma once

#include <stddef.h>

#include "execute.h"
#include "server.h"

extern const struct server_method service_methods[];
extern const size_t service_n_methods;

/* userdata of the handlers: the runner's configuration. */
struct service {
	struct execute_config exec;
};
