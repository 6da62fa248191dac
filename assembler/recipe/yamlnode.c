/* SPDX-License-Identifier: Apache-2.0 */
#include "yamlnode.h"

#include <yaml.h>

void ynode_free(struct ynode *n)
{
        if (!n)
                return;
        for (size_t i = 0; i < n->n_items; i++)
                ynode_free(n->items[i]);
        free(n->items);
        free(n->value);
        free(n);
}

const char *ynode_type_name(const struct ynode *n)
{
        switch (n->type) {
        case YNODE_SCALAR:
                return "a scalar";
        case YNODE_SEQUENCE:
                return "a list";
        case YNODE_MAPPING:
                return "a mapping";
        }
        return "?";
}

static void parser_cleanup(yaml_parser_t *p)
{
        yaml_parser_delete(p);
}

static void event_cleanup(yaml_event_t *e)
{
        yaml_event_delete(e);
}

struct loader {
        const char *name;
        yaml_parser_t *parser;
        struct cairn_error *err;
        size_t n_nodes;
};

static struct recipe_pos pos_of(const yaml_mark_t *m)
{
        return (struct recipe_pos){ .line = (unsigned)m->line + 1,
                                    .column = (unsigned)m->column + 1 };
}

static int fail_at(struct loader *l, const yaml_mark_t *m, const char *what)
{
        struct recipe_pos p = pos_of(m);
        return cairn_error_add(l->err, CAIRN_EXIT_USAGE, -EINVAL, "%s:%u:%u: error: %s", l->name,
                               p.line, p.column, what);
}

static int parse_event(struct loader *l, yaml_event_t *ev)
{
        if (yaml_parser_parse(l->parser, ev))
                return 0;
        const yaml_parser_t *p = l->parser;
        const char *problem = p->problem ? p->problem : "invalid YAML";
        struct recipe_pos pos = pos_of(&p->problem_mark);
        if (p->context)
                return cairn_error_add(l->err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s:%u:%u: error: %s %s (not valid YAML)", l->name, pos.line,
                                       pos.column, problem, p->context);
        return cairn_error_add(l->err, CAIRN_EXIT_USAGE, -EINVAL,
                               "%s:%u:%u: error: %s (not valid YAML)", l->name, pos.line,
                               pos.column, problem);
}

static int node_push(struct ynode *parent, struct ynode *child)
{
        if (GROW(parent->items, parent->cap, parent->n_items + 1) < 0)
                return -ENOMEM;
        parent->items[parent->n_items++] = child;
        return 0;
}

/* Builds the node that starts with *ev (already parsed) and its children. */
static int load_node(struct loader *l, yaml_event_t *ev, unsigned depth, struct ynode **ret)
{
        if (depth > YNODE_MAX_DEPTH)
                return fail_at(l, &ev->start_mark, "nesting deeper than 32 levels");
        if (++l->n_nodes > YNODE_MAX_NODES)
                return fail_at(l, &ev->start_mark, "more than 200000 YAML nodes");

        const yaml_char_t *anchor = NULL, *tag = NULL;
        bool implicit_tag = true;
        switch (ev->type) {
        case YAML_ALIAS_EVENT:
                return fail_at(l, &ev->start_mark,
                               "YAML aliases (*name) are not allowed in recipes; repeat the value");
        case YAML_SCALAR_EVENT:
                anchor = ev->data.scalar.anchor;
                tag = ev->data.scalar.tag;
                implicit_tag = ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit;
                break;
        case YAML_SEQUENCE_START_EVENT:
                anchor = ev->data.sequence_start.anchor;
                tag = ev->data.sequence_start.tag;
                implicit_tag = ev->data.sequence_start.implicit;
                break;
        case YAML_MAPPING_START_EVENT:
                anchor = ev->data.mapping_start.anchor;
                tag = ev->data.mapping_start.tag;
                implicit_tag = ev->data.mapping_start.implicit;
                break;
        default:
                return fail_at(l, &ev->start_mark, "unexpected YAML structure");
        }
        if (anchor)
                return fail_at(l, &ev->start_mark,
                               "YAML anchors (&name) are not allowed in recipes");
        if (tag && !implicit_tag)
                return fail_at(l, &ev->start_mark,
                               "explicit YAML tags (!tag) are not allowed in recipes");

        _cleanup_ynode_ struct ynode *n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->pos = pos_of(&ev->start_mark);

        if (ev->type == YAML_SCALAR_EVENT) {
                n->type = YNODE_SCALAR;
                n->len = ev->data.scalar.length;
                n->value = malloc(n->len + 1);
                if (!n->value)
                        return -ENOMEM;
                memcpy(n->value, ev->data.scalar.value, n->len);
                n->value[n->len] = '\0';
                n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                *ret = steal_pointer(&n);
                return 0;
        }

        bool mapping = ev->type == YAML_MAPPING_START_EVENT;
        n->type = mapping ? YNODE_MAPPING : YNODE_SEQUENCE;
        yaml_event_type_t end = mapping ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
        for (;;) {
                _cleanup_(event_cleanup) yaml_event_t child = { 0 };
                int r = parse_event(l, &child);
                if (r < 0)
                        return r;
                if (child.type == end)
                        break;
                struct ynode *c = NULL;
                r = load_node(l, &child, depth + 1, &c);
                if (r < 0)
                        return r;
                r = node_push(n, c);
                if (r < 0) {
                        ynode_free(c);
                        return r;
                }
        }
        *ret = steal_pointer(&n);
        return 0;
}

int ynode_load(const char *name, const char *buf, size_t len, struct ynode **ret,
               struct cairn_error *err)
{
        _cleanup_(parser_cleanup) yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
        struct loader l = { .name = name, .parser = &parser, .err = err };

        struct ynode *root = NULL;
        bool seen_document = false;
        for (;;) {
                _cleanup_(event_cleanup) yaml_event_t ev = { 0 };
                int r = parse_event(&l, &ev);
                if (r < 0) {
                        ynode_free(root);
                        return r;
                }
                if (ev.type == YAML_STREAM_END_EVENT)
                        break;
                if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_END_EVENT)
                        continue;
                if (ev.type == YAML_DOCUMENT_START_EVENT) {
                        if (seen_document) {
                                ynode_free(root);
                                return fail_at(&l, &ev.start_mark,
                                               "a recipe is one YAML document; remove the "
                                               "second '---'");
                        }
                        seen_document = true;
                        continue;
                }
                r = load_node(&l, &ev, 0, &root);
                if (r < 0)
                        return r;
        }
        if (!root)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENODATA,
                                       "%s:1:1: error: the recipe is empty; it needs at least "
                                       "'recipe: 1' and 'name:'",
                                       name);
        *ret = root;
        return 0;
}

const struct ynode *ynode_map_get(const struct ynode *m, const char *key)
{
        if (!m || m->type != YNODE_MAPPING)
                return NULL;
        for (size_t i = 0; i + 1 < m->n_items; i += 2)
                if (m->items[i]->type == YNODE_SCALAR && streq(m->items[i]->value, key))
                        return m->items[i + 1];
        return NULL;
}

bool ynode_is_null(const struct ynode *n)
{
        return n->type == YNODE_SCALAR && n->plain &&
               (n->len == 0 || streq(n->value, "~") || streq(n->value, "null"));
}
