/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the recipe parser (recipe-parse*.c); the model (recipe.c) never includes it. */
#pragma once

#include "recipe.h"
#include "yamlnode.h"
