/*
 * boxctl run's command line (run-args.c): the options, their help text,
 * and their translation into a box_spec, a policy file's first. Every
 * refusal is one line on stderr naming the option (or FILE:LINE of the
 * policy), and the parse fails; nothing is sent to the daemon here.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "boxclient.h"

struct run_args {
	box_spec *spec;
	bool help;
	bool json;
	bool plan;
	bool sort_mounts;
	int tty; /* -1: when stdin and stdout are terminals; 0, 1: --(no-)tty */
	/* Will the sandbox have a /dev of its own to make a terminal in?
	 * The default profile has one; a bare one only with --dev. */
	bool bare, has_dev;
	bool tty_asked; /* --tty given, not the default's choice */
	int result_fd;
	const char *policy; /* --policy FILE, applied before the options */
	/* Where the pending --size/--perms came from, for messages:
	 * "--size", or "FILE:LINE: size" from a policy file. */
	char size_where[512], perms_where[512];
	/* --size/--perms wait for the next --tmpfs/--dir */
	bool has_size;
	uint64_t size;
	int perms;
	char **cmd;
	/* For --max-isolation: what the daemon said at the handshake. */
	const box_host_info *host;
};

/* The options and what they do, for --help. */
void run_usage(FILE *f);
/* argv after "run": the policy file first, then the options in order,
 * then the command; a->spec must be a fresh spec. 0 (a->help set for
 * --help), or -1 after saying why on stderr. */
int parse_run_args(struct run_args *a, int argc, char **argv);
/* Quick scans before anything is parsed: is --help or -h among the
 * options, is --max-isolation (which needs the daemon's answer first). */
bool run_args_ask_help(int argc, char **argv);
bool wants_max_isolation(int argc, char **argv);
