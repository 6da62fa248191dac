/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed cleanups for the libsolv objects cairn holds (STYLE §3): each accepts NULL (or an
 * empty Queue/Map), resets the variable and preserves errno. Queue and Map are values, not
 * pointers: declare them with the attribute and initialise them at once.
 *
 *     _cleanup_pool_ Pool *pool = pool_create();
 *     _cleanup_queue_ Queue job = { 0 };  queue_init(&job);
 */
#pragma once

#include <solv/bitmap.h>
#include <solv/pool.h>
#include <solv/queue.h>
#include <solv/solver.h>
#include <solv/transaction.h>

#include "base/util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(Pool *, pool_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(Solver *, solver_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(Transaction *, transaction_free)
#define _cleanup_pool_        _cleanup_(pool_freep)
#define _cleanup_solver_      _cleanup_(solver_freep)
#define _cleanup_transaction_ _cleanup_(transaction_freep)

static inline void solv_queue_freep(Queue *q)
{
        int saved = errno;
        queue_free(q);
        errno = saved;
}
static inline void solv_map_freep(Map *m)
{
        int saved = errno;
        map_free(m);
        errno = saved;
}
#define _cleanup_queue_ _cleanup_(solv_queue_freep)
#define _cleanup_map_   _cleanup_(solv_map_freep)
