/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What goes into each OCI layer of an image, as tar plans (tarwriter.h):
 *
 *  - layerplan_layer: the entries of one tree_layer (base, app) of a tree;
 *  - layerplan_delta: what one tree adds or changes over another, plus OCI whiteouts
 *    (DIR/.wh.NAME) for what it lacks: applied over the layers of base it gives top.
 *
 * Each plan also carries the parent directories of its entries, with their metadata from the
 * tree, so a layer unpacked alone creates them as the tree says. Plans are in byte order of
 * their paths, parents first; their items point into the trees, which must outlive them.
 */
#pragma once

#include "tarwriter.h"
#include "tree/tree.h"

/* Appends to p the entries of t in layer (implicit parents only as parents of those). */
int layerplan_layer(struct tar_plan *p, const struct tree *t, enum tree_layer layer);

/* Appends to p what top adds or changes over base, and a whiteout for every topmost path of
 * base that top lacks (removing a directory removes what it holds). */
int layerplan_delta(struct tar_plan *p, const struct tree *base, const struct tree *top);
