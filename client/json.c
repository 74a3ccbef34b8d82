/*
 * JSON renderings of records (result, error, status, run list), for
 * tools that log or forward them. One object per call, absent optional
 * values as null, 64-bit counters as unsigned numbers. Paths, argv and
 * tags are bytes: invalid UTF-8 is replaced so the output stays valid
 * JSON. Never writes anywhere but the string it returns.
 */
#include <json-c/json.h>
#include <string.h>

#include "internal.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are invalid. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string, invalid UTF-8 bytes replaced by U+FFFD; null for NULL. */
json_object *json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i = 0, o = 0;
	_cleanup_free_ char *clean = NULL;
	bool valid = true;

	if (!s)
		return NULL;
	n = strlen(s);
	while (i < n) {
		size_t len = utf8_seq(p + i, n - i);

		if (len == 0) {
			valid = false;
			break;
		}
		i += len;
	}
	if (valid)
		return json_object_new_string(s);
	if (n > SIZE_MAX / 3 - 1)
		return NULL;
	clean = malloc(n * 3 + 1);
	if (!clean)
		return NULL;
	for (i = 0; i < n;) {
		size_t len = utf8_seq(p + i, n - i);

		if (len == 0) {
			memcpy(clean + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(clean + o, p + i, len);
		o += len;
		i += len;
	}
	clean[o] = '\0';
	return json_object_new_string(clean);
}

static json_object *json_u64_opt(int64_t v)
{
	return v >= 0 ? json_object_new_uint64((uint64_t)v) : NULL;
}

json_object *json_strv(const char *const *v)
{
	json_object *a = json_object_new_array();

	for (; a && v && *v; v++)
		json_object_array_add(a, json_str(*v));
	return a;
}

static json_object *json_bool_opt(int v)
{
	return v >= 0 ? json_object_new_boolean(v) : NULL;
}

/* Hand out obj as a malloc'd string and drop it. */
int json_finish(json_object *obj, char **ret_json)
{
	const char *text;
	char *copy;

	if (!obj)
		return -ENOMEM;
	text = json_object_to_json_string_ext(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	copy = text ? strdup(text) : NULL;
	json_object_put(obj);
	if (!copy)
		return -ENOMEM;
	*ret_json = copy;
	return 0;
}

int box_result_json(const box_result *r, char **ret_json)
{
	json_object *o;
	const char *source;
	int v;

	if (!r || !ret_json)
		return -EINVAL;
	switch (box_result_peak_memory_source(r)) {
	case BOX_PEAK_CGROUP:
		source = "cgroup";
		break;
	case BOX_PEAK_RUSAGE:
		source = "rusage";
		break;
	case BOX_PEAK_NONE:
	default:
		source = "none";
		break;
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "run_id",
			       json_object_new_uint64(box_result_run_id(r)));
	json_object_object_add(o, "termination",
			       json_object_new_string(box_termination_name(
				   box_result_termination(r))));
	json_object_object_add(o, "exit_code",
			       r->msg->has_exit_code
				   ? json_object_new_int(r->msg->exit_code)
				   : NULL);
	v = box_result_signal(r);
	json_object_object_add(o, "signal",
			       v > 0 ? json_object_new_int(v) : NULL);
	json_object_object_add(o, "wall_ns",
			       json_object_new_uint64(box_result_wall_ns(r)));
	json_object_object_add(o, "user_ns",
			       json_object_new_uint64(box_result_user_ns(r)));
	json_object_object_add(o, "system_ns",
			       json_object_new_uint64(box_result_system_ns(r)));
	json_object_object_add(
	    o, "peak_rss_bytes",
	    json_object_new_uint64(box_result_peak_rss_bytes(r)));
	json_object_object_add(o, "peak_memory_bytes",
			       json_u64_opt(box_result_peak_memory_bytes(r)));
	json_object_object_add(o, "peak_memory_source",
			       json_object_new_string(source));
	json_object_object_add(o, "oom_kills",
			       json_u64_opt(box_result_oom_kills(r)));
	json_object_object_add(o, "peak_pids",
			       json_u64_opt(box_result_peak_pids(r)));
	json_object_object_add(o, "seccomp_syscall",
			       json_str(box_result_seccomp_syscall(r)));
	json_object_object_add(o, "execs_refused",
			       json_u64_opt(box_result_execs_refused(r)));
	json_object_object_add(o, "caveats", json_strv(box_result_caveats(r)));
	json_object_object_add(o, "start_time_unix_ns",
			       json_u64_opt(box_result_start_time_unix_ns(r)));
	return json_finish(o, ret_json);
}

int box_error_json(const box_error *e, char **ret_json)
{
	json_object *o, *inner;
	const char *name = NULL;

	if (!e || !ret_json)
		return -EINVAL;
	if (e->errno_value > 0)
		name = strerrorname_np(e->errno_value);
	o = json_object_new_object();
	inner = json_object_new_object();
	if (!o || !inner) {
		json_object_put(o);
		json_object_put(inner);
		return -ENOMEM;
	}
	json_object_object_add(
	    inner, "code",
	    json_object_new_string(box_error_code_name(e->code)));
	json_object_object_add(inner, "message", json_str(e->message));
	json_object_object_add(inner, "step", json_str(e->step));
	json_object_object_add(
	    inner, "errno",
	    e->errno_value > 0 ? json_object_new_int(e->errno_value) : NULL);
	json_object_object_add(inner, "errno_name", json_str(name));
	json_object_object_add(inner, "run_id",
			       e->has_run_id ? json_object_new_uint64(e->run_id)
					     : NULL);
	json_object_object_add(inner, "retry_after_ms",
			       e->retry_after_ms >= 0
				   ? json_object_new_int64(e->retry_after_ms)
				   : NULL);
	json_object_object_add(o, "error", inner);
	return json_finish(o, ret_json);
}

static json_object *capabilities_json(const struct box_host_info *h)
{
	json_object *a = json_object_new_array();
	size_t n = box_host_capability_count(h);

	for (size_t i = 0; a && i < n; i++) {
		json_object *c = json_object_new_object();
		int64_t ceiling = box_host_capability_ceiling(h, i);

		if (!c)
			break;
		json_object_object_add(
		    c, "name", json_str(box_host_capability_name(h, i)));
		json_object_object_add(
		    c, "description",
		    json_str(box_host_capability_description(h, i)));
		json_object_object_add(
		    c, "available",
		    json_object_new_boolean(
			box_host_capability_available(h, i)));
		json_object_object_add(
		    c, "reason", json_str(box_host_capability_reason(h, i)));
		json_object_object_add(c, "ceiling", json_u64_opt(ceiling));
		json_object_array_add(a, c);
	}
	return a;
}

json_object *host_info_to_json(const struct box_host_info *h)
{
	json_object *o;

	if (!h)
		return NULL;
	o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "namespaces",
			       json_strv(box_host_namespaces(h)));
	json_object_object_add(o, "cgroup_mode",
			       json_str(box_host_cgroup_mode(h)));
	json_object_object_add(o, "cgroup_path",
			       json_str(box_host_cgroup_path(h)));
	json_object_object_add(o, "controllers",
			       json_strv(box_host_controllers(h)));
	json_object_object_add(o, "limits", json_strv(box_host_limits(h)));
	json_object_object_add(o, "seccomp",
			       json_bool_opt(box_host_seccomp(h)));
	json_object_object_add(o, "landlock",
			       json_bool_opt(box_host_landlock(h)));
	json_object_object_add(o, "nets", json_strv(box_host_nets(h)));
	json_object_object_add(o, "profiles", json_strv(box_host_profiles(h)));
	json_object_object_add(o, "features", json_strv(box_host_features(h)));
	json_object_object_add(o, "capabilities", capabilities_json(h));
	return o;
}

int box_status_json(const box_status *st, char **ret_json)
{
	json_object *o, *pool = NULL;

	if (!st || !ret_json)
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "daemon_version",
			       json_str(box_status_daemon_version(st)));
	json_object_object_add(o, "uptime_ns",
			       json_u64_opt(box_status_uptime_ns(st)));
	json_object_object_add(o, "runs", json_u64_opt(box_status_runs(st)));
	json_object_object_add(o, "connections",
			       json_u64_opt(box_status_connections(st)));
	json_object_object_add(o, "daemon_rss_bytes",
			       json_u64_opt(box_status_daemon_rss_bytes(st)));
	if (st->msg->pool) {
		pool = json_object_new_object();
		if (!pool) {
			json_object_put(o);
			return -ENOMEM;
		}
		json_object_object_add(pool, "size",
				       json_u64_opt(box_status_pool_size(st)));
		json_object_object_add(
		    pool, "target", json_u64_opt(box_status_pool_target(st)));
		json_object_object_add(pool, "hits",
				       json_u64_opt(box_status_pool_hits(st)));
		json_object_object_add(
		    pool, "misses", json_u64_opt(box_status_pool_misses(st)));
		json_object_object_add(
		    pool, "refill_failures",
		    json_u64_opt(box_status_pool_refill_failures(st)));
		json_object_object_add(
		    pool, "member_rss_bytes",
		    json_u64_opt(box_status_pool_member_rss_bytes(st)));
		json_object_object_add(
		    pool, "prebuilt",
		    json_u64_opt(box_status_pool_prebuilt(st)));
		json_object_object_add(
		    pool, "waiting", json_u64_opt(box_status_pool_waiting(st)));
	}
	json_object_object_add(o, "pool", pool);
	json_object_object_add(o, "host", host_info_to_json(st->host));
	return json_finish(o, ret_json);
}

int box_run_list_json(const box_run_list *l, char **ret_json)
{
	json_object *o, *runs;

	if (!l || !ret_json)
		return -EINVAL;
	o = json_object_new_object();
	runs = json_object_new_array();
	if (!o || !runs) {
		json_object_put(o);
		json_object_put(runs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < box_run_list_count(l); i++) {
		const box_run_info *info = box_run_list_get(l, i);
		json_object *r = json_object_new_object();

		if (!r) {
			json_object_put(o);
			json_object_put(runs);
			return -ENOMEM;
		}
		json_object_object_add(
		    r, "run_id", json_object_new_uint64(box_run_info_id(info)));
		json_object_object_add(
		    r, "uid", json_object_new_uint64(box_run_info_uid(info)));
		json_object_object_add(
		    r, "pid",
		    box_run_info_pid(info) >= 0
			? json_object_new_int64(box_run_info_pid(info))
			: NULL);
		json_object_object_add(r, "argv0",
				       json_str(box_run_info_argv0(info)));
		json_object_object_add(r, "tag",
				       json_str(box_run_info_tag(info)));
		json_object_object_add(
		    r, "elapsed_ns",
		    json_u64_opt(box_run_info_elapsed_ns(info)));
		json_object_array_add(runs, r);
	}
	json_object_object_add(o, "runs", runs);
	return json_finish(o, ret_json);
}
