/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the two halves of the sandbox share: the caller (sandbox.c) and the supervisor
 * (supervisor.c) talk over the result pipe in records of one tag byte and a NUL-terminated
 * payload:
 *   'C' 'M' 'D' + 'd'|'f' + PATH   a write (created, modified, deleted; directory or not)
 *   'R' + PATH                     a file opened (--reads)
 *   'S' + "STATUS TIMEDOUT KILLED INTERRUPTED TRUNCATED"   how the program ended
 *   'E' + "ERRNO MESSAGE"          the sandbox could not be set up or the container not started
 */
#pragma once

#include "sandbox.h"
#include "tree/tree.h"

#define RECORD_MAX (TREE_PATH_MAX + 8)

/*
 * The supervisor: PID 1 of a new pid namespace (the caller's child must have unshared it),
 * runs the bundle o describes and sends its records to result_fd. Never returns.
 */
_Noreturn void sandbox_supervisor_run(const struct sandbox_options *o, int result_fd);

/* Sends one record; a message that does not fit is cut. */
void sandbox_record_send(int fd, char tag, const char *payload);
