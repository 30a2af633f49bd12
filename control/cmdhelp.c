/* SPDX-License-Identifier: MIT */
/*
 * Texts generated from the command table: the command list of
 * "ubctl --help", the page of "ubctl OBJECT help", and a bash completion
 * script. They are written to a stream the caller hands in (stdout for
 * ubctl, a file at build time, memory in the tests); nothing here picks
 * a stream of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ubridge/cmd.h>
#include <ubridge/compiler.h>

/* Help text starts in this column and wraps before column 80. */
#define UB_CMD_HELP_COL 38
#define UB_CMD_HELP_WIDTH 79

static int ub_cmd_ferr__(FILE *f)
{
	return ferror(f) ? -EIO : 0;
}

/* Writes 'text' from column 'col' on (the cursor is there), wrapped. */
static void ub_cmd_wrap__(FILE *f, const char *text, int col)
{
	int x = col;

	while (*text) {
		int n = (int)strcspn(text, " ");

		if (x > col && x + 1 + n > UB_CMD_HELP_WIDTH) {
			fprintf(f, "\n%*s", col, "");
			x = col;
		}
		if (x > col) {
			fputc(' ', f);
			x++;
		}
		fprintf(f, "%.*s", n, text);
		x += n;
		text += n;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

/* "  NAME<padding>TEXT", TEXT on the next line when NAME is too wide. */
static void ub_cmd_item__(FILE *f, const char *name, const char *text)
{
	if ((int)strlen(name) > UB_CMD_HELP_COL - 3)
		fprintf(f, "  %s\n%*s", name, UB_CMD_HELP_COL, "");
	else
		fprintf(f, "  %-*s ", UB_CMD_HELP_COL - 3, name);
	ub_cmd_wrap__(f, text, UB_CMD_HELP_COL);
}

int ub_cmd_write_commands(FILE *f, const char *obj)
{
	char usage[300];

	for (int i = 0; i < UB_CMD__COUNT; i++) {
		const struct ub_cmd_spec *c = ub_cmd_get((enum ub_cmd_id)i);

		if (obj && strcmp(c->obj, obj))
			continue;
		if (ub_cmd_usage(c, UB_CMD_PARSE_USER, usage, sizeof(usage)) < 0)
			return -ENOSPC;
		ub_cmd_item__(f, usage, c->summary);
	}
	return ub_cmd_ferr__(f);
}

/* "--name VALUE" of the option list: the enum's words as its value. */
static void ub_cmd_optline__(const struct ub_cmd_arg *a, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s", a->flags & UB_CMD_A_BARE ? "" : "--",
			 a->name);

	for (int i = 0; a->words && a->words[i] && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - (size_t)n, "%s%s", i ? "|" : " ",
			      a->words[i]);
	if (a->meta && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " %s", a->meta);
}

int ub_cmd_write_object_help(FILE *f, const struct ub_cmd_object *obj)
{
	const struct ub_cmd_arg *seen[32];
	const struct ub_cmd_spec *dflt = NULL;
	size_t nseen = 0;
	int ret;

	fprintf(f, "%s\n\nCommands:\n", obj->summary);
	ret = ub_cmd_write_commands(f, obj->name);
	if (ret)
		return ret;
	/* What each option means, once per name. */
	for (int i = 0; i < UB_CMD__COUNT; i++) {
		const struct ub_cmd_spec *c = ub_cmd_get((enum ub_cmd_id)i);

		if (strcmp(c->obj, obj->name))
			continue;
		if (c->flags & UB_CMD_F_DEFAULT)
			dflt = c;
		for (unsigned int j = 0; j < c->nargs; j++) {
			const struct ub_cmd_arg *a = &c->args[j];
			bool dup = false;
			char name[64];

			if (!a->name || !a->help || a->flags & UB_CMD_A_HIDDEN)
				continue;
			for (size_t k = 0; k < nseen && !dup; k++)
				dup = !strcmp(seen[k]->name, a->name);
			if (dup || nseen == UB_ARRAY_SIZE(seen))
				continue;
			if (!nseen)
				fputs("\nOptions (the dashes are optional):\n", f);
			seen[nseen++] = a;
			ub_cmd_optline__(a, name, sizeof(name));
			ub_cmd_item__(f, name, a->help);
		}
	}
	if (dflt)
		fprintf(f, "\n\"%s\" alone means \"%s %s\".\n", obj->name,
			obj->name, dflt->verb);
	return ub_cmd_ferr__(f);
}

/* ---- bash completion ---- */

/* How the completion offers a value of 'a' (see _ubctl_values). */
static void ub_cmd_bash_kind__(FILE *f, const struct ub_cmd_arg *a)
{
	switch (a->type) {
	case UB_CMD_T_ENUM:
		fputs("\"w:", f);
		for (int i = 0; a->words[i]; i++)
			fprintf(f, "%s%s", i ? " " : "", a->words[i]);
		fputc('"', f);
		return;
	case UB_CMD_T_BOOL:
		fputs("\"w:yes no\"", f);
		return;
	case UB_CMD_T_IFNAME:
		fputs("ifaces", f);
		return;
	case UB_CMD_T_PORT:
		fputs("ports", f);
		return;
	case UB_CMD_T_PORT_ALL:
		fputs("ports_all", f);
		return;
	case UB_CMD_T_NETNS:
	case UB_CMD_T_NETNS_PATH:
		fputs("netns", f);
		return;
	case UB_CMD_T_PATH:
		fputs("files", f);
		return;
	case UB_CMD_T_ID_ALL:
		fputs("\"w:all\"", f);
		return;
	default:
		fputs("-", f);
		return;
	}
}

/* One "case" branch: the command's positionals and options. */
static void ub_cmd_bash_cmd__(FILE *f, const struct ub_cmd_spec *c)
{
	const char *sep = "";
	bool rep = false;

	fprintf(f, "\t\"%s%s%s\")\n\t\tpos=(", c->obj, c->verb ? " " : "",
		c->verb ? c->verb : "");
	for (unsigned int i = 0; i < c->nargs; i++) {
		if (!(c->args[i].flags & UB_CMD_A_POS))
			continue;
		fputs(sep, f);
		ub_cmd_bash_kind__(f, &c->args[i]);
		sep = " ";
		rep = c->args[i].flags & UB_CMD_A_MULTI;
	}
	/* rep: the last positional takes any number of words. */
	fprintf(f, ")%s\n\t\topts=\"", rep ? " rep=1" : "");
	sep = "";
	for (unsigned int i = 0; i < c->nargs; i++) {
		const struct ub_cmd_arg *a = &c->args[i];

		if (!a->name || a->flags & UB_CMD_A_HIDDEN)
			continue;
		fprintf(f, "%s%s%s", sep, a->flags & UB_CMD_A_BARE ? "" : "--",
			a->name);
		sep = " ";
	}
	fputs("\"\n\t\tval=(", f);
	sep = "";
	for (unsigned int i = 0; i < c->nargs; i++) {
		const struct ub_cmd_arg *a = &c->args[i];

		if (!a->name || a->flags & UB_CMD_A_HIDDEN ||
		    a->type == UB_CMD_T_FLAG)
			continue;
		/* The bare keyword always; the dashed one unless bare only. */
		for (int dash = 0; dash < 2; dash++) {
			if (dash && a->flags & UB_CMD_A_BARE)
				continue;
			fprintf(f, "%s[%s%s]=", sep, dash ? "--" : "", a->name);
			ub_cmd_bash_kind__(f, a);
			sep = " ";
		}
	}
	fputs(") ;;\n", f);
}

static const char ub_cmd_bash_head[] =
	"# bash completion for %1$s\n"
	"# Generated from ubridge's command table (control/cmdspec.c) by\n"
	"# \"%1$s completion bash\": edit the table, not this file.\n"
	"\n"
	"_%1$s_values()\n"
	"{\n"
	"\tlocal kind=$1 list=\n"
	"\tcase $kind in\n"
	"\tw:*) list=${kind#w:} ;;\n"
	"\tifaces) list=$(command ls /sys/class/net 2>/dev/null) ;;\n"
	"\tnetns) list=$(command ls /run/netns 2>/dev/null) ;;\n"
	"\tports | ports_all)\n"
	"\t\tlist=$(\"$prog\" ${bridge:+-n \"$bridge\"} port show 2>/dev/null |\n"
	"\t\t\tawk 'NR > 1 { print $1 }')\n"
	"\t\t[[ $kind == ports_all ]] && list+=\" all\" ;;\n"
	"\tbridges)\n"
	"\t\tlocal s\n"
	"\t\tfor s in /run/ubridge/*.sock; do\n"
	"\t\t\t[[ -e $s ]] && s=${s##*/} && list+=\" ${s%%.sock}\"\n"
	"\t\tdone ;;\n"
	"\tfiles)\n"
	"\t\tcompopt -o filenames 2>/dev/null\n"
	"\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	"\t\treturn ;;\n"
	"\t*) return ;;\n"
	"\tesac\n"
	"\tCOMPREPLY=($(compgen -W \"$list\" -- \"$cur\"))\n"
	"}\n"
	"\n"
	"# Sets pos (the kinds of the positionals; rep: the last repeats), opts\n"
	"# and val (the options that take a value, bare and dashed, with their\n"
	"# kind) of command $1.\n"
	"_%1$s_spec()\n"
	"{\n"
	"\tcase $1 in\n";

static const char ub_cmd_bash_main[] =
	"\t*) return 1 ;;\n"
	"\tesac\n"
	"}\n"
	"\n"
	"_%1$s()\n"
	"{\n"
	"\tlocal cur prev words cword\n"
	"\tif declare -F _get_comp_words_by_ref >/dev/null; then\n"
	"\t\t_get_comp_words_by_ref -n =: cur prev words cword\n"
	"\telse\n"
	"\t\twords=(\"${COMP_WORDS[@]}\") cword=$COMP_CWORD\n"
	"\t\tcur=${words[cword]} prev=${words[cword - 1]}\n"
	"\tfi\n"
	"\tlocal prog=${words[0]} bridge= skip= w i n\n"
	"\tlocal gopts=\"%2$s\" gvals=\" %3$s \"\n"
	"\tlocal -a cmd=() pos=()\n"
	"\tlocal -A val=()\n"
	"\tlocal opts= verbs rep=\n"
	"\n"
	"\t# The words of the command, without the client's own options.\n"
	"\tfor ((i = 1; i < cword; i++)); do\n"
	"\t\tw=${words[i]}\n"
	"\t\tif [[ $skip ]]; then\n"
	"\t\t\tskip=\n"
	"\t\t\t[[ $prev_global == -n || $prev_global == --name ]] && bridge=$w\n"
	"\t\t\tcontinue\n"
	"\t\tfi\n"
	"\t\tprev_global=$w\n"
	"\t\tif [[ $gvals == *\" $w \"* ]]; then\n"
	"\t\t\tskip=1\n"
	"\t\t\tcontinue\n"
	"\t\tfi\n"
	"\t\tcase $w in\n"
	"\t\t--name=*) bridge=${w#*=}; continue ;;\n"
	"\t\t-[!-]*) continue ;;\n"
	"\t\tesac\n"
	"\t\t[[ \" $gopts \" == *\" $w \"* ]] && continue\n"
	"\t\tcmd+=(\"$w\")\n"
	"\tdone\n"
	"\tif [[ $gvals == *\" $prev \"* ]]; then\n"
	"\t\t[[ $prev == -n || $prev == --name ]] && _%1$s_values bridges\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tif ((${#cmd[@]} == 0)); then\n"
	"\t\tif [[ $cur == -* ]]; then\n"
	"\t\t\tCOMPREPLY=($(compgen -W \"$gopts\" -- \"$cur\"))\n"
	"\t\telse\n"
	"\t\t\tCOMPREPLY=($(compgen -W \"%4$s help\" -- \"$cur\"))\n"
	"\t\tfi\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tcase ${cmd[0]} in\n"
	"%5$s"
	"\t*) return ;;\n"
	"\tesac\n"
	"\tif [[ $verbs ]]; then\n"
	"\t\tif ((${#cmd[@]} == 1)); then\n"
	"\t\t\tCOMPREPLY=($(compgen -W \"$verbs help\" -- \"$cur\"))\n"
	"\t\t\treturn\n"
	"\t\tfi\n"
	"\t\t_%1$s_spec \"${cmd[0]} ${cmd[1]}\" || return\n"
	"\t\tcmd=(\"${cmd[@]:2}\")\n"
	"\telse\n"
	"\t\t_%1$s_spec \"${cmd[0]}\" || return\n"
	"\t\tcmd=(\"${cmd[@]:1}\")\n"
	"\tfi\n"
	"\tif [[ ${val[$prev]+set} ]]; then\n"
	"\t\t_%1$s_values \"${val[$prev]}\"\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tif [[ $cur == -* ]]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$opts $gopts\" -- \"$cur\"))\n"
	"\t\treturn\n"
	"\tfi\n"
	"\t# Count the positionals given: options and their values do not.\n"
	"\tn=0\n"
	"\tfor ((i = 0; i < ${#cmd[@]}; i++)); do\n"
	"\t\tw=${cmd[i]}\n"
	"\t\tif [[ ${val[$w]+set} ]]; then\n"
	"\t\t\t((i++))\n"
	"\t\telif [[ \" $opts \" != *\" $w \"* && \" $opts \" != *\" --$w \"* ]]; then\n"
	"\t\t\t((n++))\n"
	"\t\tfi\n"
	"\tdone\n"
	"\t((rep && n >= ${#pos[@]})) && n=$((${#pos[@]} - 1))\n"
	"\tif ((n < ${#pos[@]})); then\n"
	"\t\t_%1$s_values \"${pos[n]}\"\n"
	"\telse\n"
	"\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	"\tfi\n"
	"}\n"
	"\n"
	"complete -F _%1$s %1$s\n";

int ub_cmd_write_bash(FILE *f, const char *prog,
		      const struct ub_cmd_global *globals, size_t nglobals)
{
	char gopts[512] = "", gvals[256] = "", objs[256] = "", verbs[1024] = "";
	size_t go = 0, gv = 0, ob = 0, vb = 0;

#define UB_CAT(buf, pos, ...)						\
	((pos) += (size_t)snprintf((buf) + ((pos) < sizeof(buf) ? (pos) :	\
					     sizeof(buf)),		\
				   (pos) < sizeof(buf) ?			\
					   sizeof(buf) - (pos) : 0,	\
				   __VA_ARGS__))

	for (size_t i = 0; i < nglobals; i++) {
		const struct ub_cmd_global *g = &globals[i];

		if (g->short_name)
			UB_CAT(gopts, go, "%s-%c", go ? " " : "", g->short_name);
		UB_CAT(gopts, go, "%s--%s", go ? " " : "", g->name);
		if (!g->meta)
			continue;
		if (g->short_name)
			UB_CAT(gvals, gv, "%s-%c", gv ? " " : "", g->short_name);
		UB_CAT(gvals, gv, "%s--%s", gv ? " " : "", g->name);
	}
	for (size_t i = 0; ub_cmd_object_get(i); i++) {
		const struct ub_cmd_object *o = ub_cmd_object_get(i);

		UB_CAT(objs, ob, "%s%s", ob ? " " : "", o->name);
		UB_CAT(verbs, vb, "\t%s) verbs=\"", o->name);
		for (int k = 0, n = 0; k < UB_CMD__COUNT; k++) {
			const struct ub_cmd_spec *c = ub_cmd_get((enum ub_cmd_id)k);

			if (!strcmp(c->obj, o->name) && c->verb)
				UB_CAT(verbs, vb, "%s%s", n++ ? " " : "", c->verb);
		}
		UB_CAT(verbs, vb, "\" ;;\n");
	}
#undef UB_CAT
	if (go >= sizeof(gopts) || gv >= sizeof(gvals) || ob >= sizeof(objs) ||
	    vb >= sizeof(verbs))
		return -ENOSPC;

	fprintf(f, ub_cmd_bash_head, prog);
	for (int i = 0; i < UB_CMD__COUNT; i++)
		ub_cmd_bash_cmd__(f, ub_cmd_get((enum ub_cmd_id)i));
	fprintf(f, ub_cmd_bash_main, prog, gopts, gvals, objs, verbs);
	return ub_cmd_ferr__(f);
}
