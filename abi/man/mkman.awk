# The C API's man pages, made from two sources kept beside each other:
#   - abi/sdtls.h: what each function, type and constant does, in the
#     comments above them (the one description of the API, read by everyone
#     who opens the header); its section banners ("/* Connection */")
#     decide which page documents what;
#   - abi/man/PAGE.3.md: one per page, the page's own words (its summary,
#     an introduction, an example, what to see also) and which of the
#     header's sections it documents.
# abi/symbols-in-versions gives each function's version node (AVAILABILITY).
# The page sources are a small Markdown (below); everything else is taken
# from the header, so a new function has its page, its SYNOPSIS line, its
# description and its alias as soon as it is declared and commented.
#
# Why so: the header's comments are what the pages must agree with, and a
# copy would drift; taken from the header, a page says what the header says
# and a fix to a comment fixes the page. Why awk: it is everywhere CMake
# builds sdtls, so the build needs nothing more (no pandoc, no Python), as
# abi/check-symbols.sh needs nothing more. Why Markdown for the rest: it is
# what a maintainer writes without knowing roff (libcurl made the same
# choice), and its ```c blocks are compiled by the test.
#
# Run by abi/man/mkman.sh (POSIX awk: Debian's mawk, gawk, busybox):
#   awk -v header=abi/sdtls.h -v list=abi/symbols-in-versions -v outdir=DIR \
#       -v date=YYYY-MM-DD -f mkman.awk abi/man/*.3.md
# Writes DIR/PAGE.3 for each page and DIR/FUNCTION.3 (".so man3/PAGE.3")
# for each function the page of another name documents.
#
# Page sources: a front matter of "key: value" lines between two "---"
# lines (page, summary, sections: the header banners it documents, matched
# by their first words and separated by ";", see-also: "a(3), b(3)"), then
#   # HEADING            a section (.SH); "## Sub" a subsection (.SS)
#   text                 paragraphs, separated by blank lines
#   - item               a bullet list; continuation lines indented
#   ```c ... ```         a code block (compiled by tests/abi/man_pages_test.sh)
#   @header              the header's notes, types and functions of the
#                        page's sections (in DESCRIPTION)
#   @overview            the header's opening comment (sdtls(3))
#   @index               every other page, with its summary and functions
# Inline: `x` is an argument (italic); names followed by "(" (sdtls_conn_new(),
# sdtls_conn(3)) and SDTLS_* constants are set in bold, here and in the
# header's comments alike.
# The generator adds NAME, SYNOPSIS, RETURN VALUE (after DESCRIPTION),
# AVAILABILITY and SEE ALSO.

function die(msg) {
    print "mkman: " msg > "/dev/stderr"
    exit 1
}

function trim(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t]+$/, "", s)
    return s
}

# Every `from` in `s` replaced by `to` (no regular expression, no "&").
function replace_all(s, from, to,   out, i) {
    out = ""
    while ((i = index(s, from)) > 0) {
        out = out substr(s, 1, i - 1) to
        s = substr(s, i + length(from))
    }
    return out s
}

# roff: a backslash is \e, dashes are named (pages are ASCII: groff reads
# them without preconv); a line may not start with a control character.
function esc(s) {
    s = replace_all(s, "\\", "\\e")
    s = replace_all(s, "\342\200\224", "\\(em")
    return replace_all(s, "\342\200\223", "\\(en")
}
function line_safe(s) {
    if (s ~ /^[.']/) s = "\\&" s
    return s
}

# Prose: `arg` in italics; function and page names (followed by "(") and
# SDTLS_ constants in bold.
function inline(s,   out, tok, name) {
    s = esc(s)
    out = ""
    while (match(s, /`[^`]*`|[A-Za-z_][A-Za-z0-9_]*\(|SDTLS_[A-Z0-9_.]*[A-Z0-9_]/)) {
        tok = substr(s, RSTART, RLENGTH)
        out = out substr(s, 1, RSTART - 1)
        s = substr(s, RSTART + RLENGTH)
        if (tok ~ /^`/) {
            out = out "\\fI" substr(tok, 2, length(tok) - 2) "\\fP"
        } else if (tok ~ /\($/) {
            name = substr(tok, 1, length(tok) - 1)
            if (name ~ /^sdtls/ || substr(s, 1, 1) == ")" || s ~ /^[1-9]\)/)
                out = out "\\fB" name "\\fP("
            else
                out = out tok
        } else {
            out = out "\\fB" tok "\\fP"
        }
    }
    return out s
}

# Code, as it is: no filling, every "-" a minus sign (copied, it is ASCII).
function code_line(s) {
    s = esc(s)
    s = replace_all(s, "-", "\\-")
    return line_safe(s)
}
function emit_code(text,   n, ln, i) {
    n = split(text, ln, "\n")
    emit(".PP")
    emit(".EX")
    for (i = 1; i <= n; i++) emit(code_line(ln[i]))
    emit(".EE")
    emit(".nh")                 # .EE turns hyphenation back on
}

function emit(s) {
    print s > out_file
}

# Prose lines (a comment's text or a page source's): a blank line starts a
# paragraph; "- " starts a bullet, indented lines continue it.
function emit_prose(text, start_para,   n, ln, i, s, inlist, pending) {
    n = split(text, ln, "\n")
    pending = start_para
    inlist = 0
    for (i = 1; i <= n; i++) {
        s = ln[i]
        if (s ~ /^[ \t]*$/) { pending = 1; inlist = 0; continue }
        if (s ~ /^[ \t]*- /) {
            sub(/^[ \t]*- /, "", s)
            emit(".IP \\(bu 2")
            inlist = 1
            pending = 0
        } else if (inlist && s ~ /^[ \t]/) {
            # continues the item
        } else if (pending || inlist) {
            emit(".PP")
            pending = 0
            inlist = 0
        }
        emit(line_safe(inline(trim(s))))
    }
}

# Sentences of a comment (for RETURN VALUE): a period and a space end one,
# except after "e.g", "i.e", "etc" or an ellipsis.
function sentences(text, out,   n, s, start, pos, rest, dot) {
    s = text
    gsub(/\n/, " ", s)
    gsub(/  +/, " ", s)
    s = trim(s)
    n = 0
    start = 1
    pos = 1
    while (1) {
        rest = substr(s, pos)
        if (!match(rest, /\. +[^ ]/)) break
        dot = pos + RSTART - 1
        if (substr(s, start, dot - start + 1) ~ /(e\.g|i\.e|etc|\.\.)\.$/) { pos = dot + 1; continue }
        out[++n] = substr(s, start, dot - start + 1)
        start = dot + RLENGTH - 1
        pos = start
    }
    if (start <= length(s)) out[++n] = substr(s, start)
    return n
}

# ---- abi/symbols-in-versions ---------------------------------------------
function read_list(   line, f, nf) {
    nlisted = 0
    while ((getline line < list) > 0) {
        if (line ~ /^[ \t]*(#|$)/) continue
        nf = split(line, f, " ")
        if (nf != 3) die(list ": want \"function NODE x.y.z\", got: " line)
        listed[++nlisted] = f[1]
        node_of[f[1]] = f[2]
        since_of[f[1]] = f[3]
    }
    close(list)
    if (nlisted == 0) die(list ": no functions")
}

# ---- abi/sdtls.h -----------------------------------------------------------
# Items, in header order: "func" (a function and the comment above it),
# "code" (types and constants as written, and the comment above them),
# "note" (a comment that stands alone).
function comment_text(raw,   n, ln, i, s, first, last, out) {
    n = split(raw, ln, "\n")
    for (i = 1; i <= n; i++) {
        s = ln[i]
        if (i == 1) sub(/^[ \t]*\/\* ?/, "", s)
        else if (s !~ /^[ \t]*\*\//) sub(/^[ \t]*\*( |$)/, "", s)
        sub(/[ \t]*\*\/[ \t]*$/, "", s)
        sub(/[ \t]+$/, "", s)
        ln[i] = s
    }
    for (first = 1; first <= n && ln[first] == ""; first++) ;
    for (last = n; last >= first && ln[last] == ""; last--) ;
    out = ""
    for (i = first; i <= last; i++) out = out (i > first ? "\n" : "") ln[i]
    return out
}

function add_item(kind, name, comment, code) {
    nitems++
    item_sec[nitems] = cur_sec
    item_kind[nitems] = kind
    item_name[nitems] = name
    item_comment[nitems] = comment
    item_code[nitems] = code
    item_line[nitems] = hline
    if (kind == "func") {
        if (name in func_item) die(header ": " name " declared twice")
        func_item[name] = nitems
    }
    return nitems
}

# The next line of the header (hline its number), or "" at the end.
function next_hline() {
    if (hpos >= hcount) { hpos = hcount + 1; return "" }
    hline = ++hpos
    return H[hpos]
}

# From the current line to the one that ends with ";" (at depth 0 for a
# braced type): the declaration as written.
function read_decl(first,   text, s, depth, t) {
    text = first
    s = first
    depth = 0
    while (1) {
        t = s
        depth += gsub(/\{/, "", t)
        t = s
        depth -= gsub(/\}/, "", t)
        if (depth <= 0 && s ~ /;[ \t]*(\/\*.*\*\/)?[ \t]*$/) break
        if (hpos >= hcount) die(header ": unterminated declaration: " first)
        s = next_hline()
        text = text "\n" s
    }
    return text
}

function read_header(   s, raw, comment, after_code, k, decl, name, flat, cb) {
    hcount = 0
    while ((getline s < header) > 0) H[++hcount] = s
    close(header)
    hpos = 0
    # The opening comment: the overview of sdtls(3). A licence line
    # (SPDX-License-Identifier) before it is no part of it.
    s = next_hline()
    if (s ~ /^\/\* SPDX-License-Identifier: .*\*\/$/) s = next_hline()
    if (s !~ /^\/\*/) die(header ": does not open with a comment")
    raw = s
    while (s !~ /\*\//) { s = next_hline(); raw = raw "\n" s }
    overview = comment_text(raw)
    nsec = 0
    cur_sec = 0
    comment = ""
    after_code = 0
    cb = ""
    while (hpos < hcount) {
        s = next_hline()
        if (s ~ /^\/\* -+ \*\/$/) {                       # a banner: a new section
            s = next_hline()
            sub(/^\/\* */, "", s)
            sub(/ *\*\/$/, "", s)
            sec_title[++nsec] = s
            cur_sec = nsec
            s = next_hline()
            if (s !~ /^\/\* -+ \*\/$/) die(header ":" hline ": a banner ends with a line of dashes")
            comment = ""; after_code = 0
            continue
        }
        if (s ~ /^[ \t]*$/) {
            if (comment != "" && cur_sec) add_item("note", "", comment, "")
            comment = ""; after_code = 0
            continue
        }
        if (s ~ /^\/\*/) {                                 # a comment block
            raw = s
            while (s !~ /\*\//) { s = next_hline(); raw = raw "\n" s }
            if (after_code) { item_code[nitems] = item_code[nitems] "\n" raw; continue }
            if (comment != "" && cur_sec) add_item("note", "", comment, "")
            comment = comment_text(raw)
            continue
        }
        if (!cur_sec) continue                            # include guard, SDTLS_EXTERN
        if (s ~ /^SDTLS_EXTERN /) {
            decl = read_decl(s)
            flat = decl
            gsub(/[ \t\n]+/, " ", flat)
            sub(/^SDTLS_EXTERN /, "", flat)
            name = flat
            sub(/\(.*$/, "", name)
            sub(/^.*[^A-Za-z0-9_]/, "", name)
            k = add_item("func", name, comment, cb)
            item_proto[k] = flat
            comment = ""; after_code = 0; cb = ""
            continue
        }
        if (s ~ /^typedef struct [a-z_]+ [a-z_]+;$/) {    # opaque: its comment is a note
            if (comment != "") add_item("note", "", comment, "")
            comment = ""; after_code = 0
            continue
        }
        if (s ~ /^typedef [^{]*\(\*/) {                   # a callback type
            decl = read_decl(s)
            name = decl
            sub(/^[^(]*\(\*/, "", name)
            sub(/\).*$/, "", name)
            # Right above a function, it is part of that function's synopsis
            # and the comment above it is the function's.
            if (H[hpos + 1] ~ /^SDTLS_EXTERN /) { cb = decl; continue }
            k = add_item("code", name, comment, decl)
            synopsis_type[k] = 1
            comment = ""; after_code = 0
            continue
        }
        if (s ~ /^typedef /) {                           # enum, struct, scalar
            decl = read_decl(s)
            name = decl
            sub(/;[^;]*$/, "", name)
            sub(/^.*[^A-Za-z0-9_]/, "", name)
            if (after_code && comment == "") item_code[nitems] = item_code[nitems] "\n" decl
            else add_item("code", name, comment, decl)
            comment = ""; after_code = 1
            continue
        }
        if (s ~ /^#define /) {
            decl = s
            while (s ~ /\\$/) { s = next_hline(); decl = decl "\n" s }
            name = decl
            sub(/^#define /, "", name)
            sub(/[^A-Za-z0-9_].*$/, "", name)
            if (after_code && comment == "") item_code[nitems] = item_code[nitems] "\n" decl
            else add_item("code", name, comment, decl)
            comment = ""; after_code = 1
            continue
        }
        if (s ~ /^(#|}|extern "C")/) { comment = ""; after_code = 0; continue }
        die(header ":" hline ": a line the man pages cannot place: " s)
    }
    if (nsec == 0) die(header ": no section banners")
}

# ---- page sources ----------------------------------------------------------
function read_page(path,   s, inmeta, key, val, n, i, t, found) {
    npages++
    page_path[npages] = path
    page_body[npages] = ""
    inmeta = 0
    n = 0
    while ((getline s < path) > 0) {
        n++
        if (n == 1) {
            if (s != "---") die(path ":1: a page source starts with a \"---\" front matter")
            inmeta = 1
            continue
        }
        if (inmeta) {
            if (s == "---") { inmeta = 0; continue }
            if (!match(s, /^[a-z-]+: */)) die(path ":" n ": want \"key: value\", got: " s)
            key = substr(s, 1, index(s, ":") - 1)
            val = trim(substr(s, RLENGTH + 1))
            if (key == "page") page_name[npages] = val
            else if (key == "summary") page_summary[npages] = val
            else if (key == "sections") page_sections[npages] = val
            else if (key == "see-also") page_see[npages] = val
            else die(path ":" n ": unknown key " key " (page, summary, sections, see-also)")
            continue
        }
        page_body[npages] = page_body[npages] s "\n"
    }
    close(path)
    if (inmeta || n == 0) die(path ": unterminated front matter")
    if (page_name[npages] == "" || page_summary[npages] == "")
        die(path ": the front matter needs page: and summary:")
    if (page_name[npages] ".3.md" != base(path))
        die(path ": holds page " page_name[npages] " (name the file " page_name[npages] ".3.md)")
    # The sections it documents.
    n = split(page_sections[npages], t, ";")
    for (i = 1; i <= n; i++) {
        t[i] = trim(t[i])
        if (t[i] == "") continue
        found = 0
        for (s = 1; s <= nsec; s++) {
            if (index(sec_title[s], t[i]) == 1) {
                if (s in sec_page) die(path ": section \"" sec_title[s] "\" is documented by " page_name[sec_page[s]] " already")
                sec_page[s] = npages
                found = 1
            }
        }
        if (!found) die(path ": no section of " header " begins with \"" t[i] "\"")
    }
}
function base(p) {
    sub(/^.*\//, "", p)
    return p
}

# ---- one page --------------------------------------------------------------
function page_funcs(p, names,   k, n) {
    n = 0
    for (k = 1; k <= nitems; k++)
        if (item_kind[k] == "func" && sec_page[item_sec[k]] == p) names[++n] = item_name[k]
    return n
}

# A prototype for the SYNOPSIS: the name bold, the parameters' names in
# italics, wrapped under the opening parenthesis.
function synopsis_proto(flat,   head, params, n, p, i, out, indent, width, piece, nm) {
    head = flat
    sub(/\(.*$/, "", head)
    params = substr(flat, length(head) + 2)
    sub(/\);$/, "", params)
    nm = head
    sub(/^.*[^A-Za-z0-9_]/, "", nm)
    head = substr(head, 1, length(head) - length(nm))
    out = head "\\fB" nm "\\fP("
    indent = length(head) + length(nm) + 1
    width = indent
    n = split(params, p, ", ")
    for (i = 1; i <= n; i++) {
        piece = p[i] (i < n ? "," : ");")
        if (i > 1 && width + 1 + length(piece) > 78) {
            out = out "\n" sprintf("%" indent "s", "")
            width = indent
        } else if (i > 1) {
            out = out " "
            width++
        }
        width += length(piece)
        if (p[i] != "void" && match(p[i], /[A-Za-z_][A-Za-z0-9_]*(\[[0-9]*\])?$/))
            piece = substr(p[i], 1, RSTART - 1) "\\fI" substr(p[i], RSTART, RLENGTH) "\\fP" substr(piece, length(p[i]) + 1)
        out = out piece
    }
    return out
}

function emit_synopsis(p,   k, n, ln, i) {
    emit(".SH SYNOPSIS")
    emit(".nf")
    emit(".B #include <sdtls/sdtls.h>")
    for (k = 1; k <= nitems; k++) {
        if (sec_page[item_sec[k]] != p) continue
        if (item_kind[k] == "code" && (k in synopsis_type)) {
            emit(".PP")
            n = split(item_code[k], ln, "\n")
            for (i = 1; i <= n; i++) emit(code_line(ln[i]))
        }
        if (item_kind[k] != "func") continue
        emit(".PP")
        if (item_code[k] != "") {
            n = split(item_code[k], ln, "\n")
            for (i = 1; i <= n; i++) emit(code_line(ln[i]))
        }
        n = split(synopsis_proto(item_proto[k]), ln, "\n")
        for (i = 1; i <= n; i++) emit(line_safe(ln[i]))
    }
    emit(".fi")
}

# The header's share of DESCRIPTION: its notes, then its types and
# constants, then one subsection per function.
function emit_header_items(p,   k, any) {
    for (k = 1; k <= nitems; k++)
        if (sec_page[item_sec[k]] == p && item_kind[k] == "note") emit_prose(item_comment[k], 1)
    any = 0
    for (k = 1; k <= nitems; k++) {
        if (sec_page[item_sec[k]] != p || item_kind[k] != "code") continue
        if (!any) emit(".SS Types and constants")
        any = 1
        if (item_comment[k] != "") emit_prose(item_comment[k], 1)
        emit_code(item_code[k])
    }
    for (k = 1; k <= nitems; k++) {
        if (sec_page[item_sec[k]] != p || item_kind[k] != "func") continue
        emit(".SS " item_name[k] "()")
        if (item_comment[k] == "") die(header ":" item_line[k] ": " item_name[k] "() has no comment to describe it")
        emit_prose(item_comment[k], 0)
    }
}

# The opening comment of the header: paragraphs that begin "Topic: " (a
# few words) become subsections; an aside in parentheses after the topic
# ("Handles and their lifetimes (what ... rely on):") opens the text.
function emit_overview(   n, ln, i, s, head, bare, para, words, w, rest, aside) {
    n = split(overview, ln, "\n")
    para = ""
    for (i = 2; i <= n + 1; i++) {      # the first line is the title (NAME's)
        s = i <= n ? ln[i] : ""
        if (s != "") { para = para (para == "" ? "" : "\n") s; continue }
        if (para == "") continue
        head = ""
        if (match(para, /^[A-Z][^:.,]*:( |\n)/)) {
            rest = substr(para, RLENGTH + 1)
            head = substr(para, 1, RLENGTH)
            sub(/:[ \n]$/, "", head)
            gsub(/\n/, " ", head)
            bare = head
            gsub(/\([^)]*\)/, "", bare)
            words = split(bare, w, " ")
            if (words > 4) head = ""
        }
        if (head != "") {
            aside = ""
            if (match(head, /\([^)]*\)/)) aside = substr(head, RSTART + 1, RLENGTH - 2) ":\n"
            emit(".SS " inline(trim(bare)))
            rest = aside rest
            emit_prose(toupper(substr(rest, 1, 1)) substr(rest, 2), 0)
        } else {
            emit_prose(para, 1)
        }
        para = ""
    }
}

function emit_index(   o, q, names, n, i, list_text) {
    for (o = 1; o <= npages; o++) {
        q = order[o]
        if (q == cur_page) continue
        emit(".TP")
        emit("\\fB" page_name[q] "\\fP(3)")
        emit(line_safe(inline(page_summary[q])) ".")
        emit(".br")
        n = page_funcs(q, names)
        list_text = ""
        for (i = 1; i <= n; i++) list_text = list_text (i > 1 ? ", " : "") names[i] "()"
        if (n) emit(line_safe(inline(list_text)))
    }
}

function emit_return_value(p,   k, n, s, i, m, text, voids, nv) {
    n = 0
    for (k = 1; k <= nitems; k++)
        if (sec_page[item_sec[k]] == p && item_kind[k] == "func") n++
    if (!n) return
    emit(".SH RETURN VALUE")
    voids = ""
    nv = 0
    for (k = 1; k <= nitems; k++) {
        if (sec_page[item_sec[k]] != p || item_kind[k] != "func") continue
        if (item_proto[k] ~ /^void [a-z_]/) {
            voids = voids (nv++ ? ", " : "") item_name[k] "()"
            continue
        }
        # What the comment says about the value: its sentences that begin
        # "Returns" or "On success" or say "returns 0", else (a query: "The
        # negotiated ...") its first sentence.
        m = sentences(item_comment[k], s)
        text = ""
        for (i = 1; i <= m; i++)
            if (s[i] ~ /^(Returns|On success)/ || s[i] ~ /returns 0/) text = text (text == "" ? "" : " ") s[i]
        if (text == "") text = s[1]
        emit(".TP")
        emit("\\fB" item_name[k] "\\fP()")
        emit(line_safe(inline(text)))
    }
    if (nv) {
        emit(".PP")
        emit(line_safe(inline(voids (nv > 1 ? " return" : " returns") " no value.")))
    }
}

function emit_availability(p,   k, nodes, nn, seen, i, text, nd) {
    nn = 0
    for (k = 1; k <= nitems; k++) {
        if (sec_page[item_sec[k]] != p || item_kind[k] != "func") continue
        nd = node_of[item_name[k]]
        if (!(nd in seen)) { seen[nd] = ""; nodes[++nn] = nd }
        seen[nd] = seen[nd] (seen[nd] == "" ? "" : ", ") item_name[k] "()"
    }
    if (!nn) return
    emit(".SH AVAILABILITY")
    emit("Each function is exported with the version node of")
    emit(".B libsdtls.so.1")
    emit("that added it; a program that calls it needs a library with that node.")
    for (i = 1; i <= nn; i++) {
        emit(".TP")
        text = ""
        for (k = 1; k <= nlisted; k++)
            if (node_of[listed[k]] == nodes[i]) { text = since_of[listed[k]]; break }
        emit("\\fB" nodes[i] "\\fP (sdtls " text ")")
        emit(line_safe(inline(seen[nodes[i]])))
    }
}

function write_page(p,   names, n, i, namelist, ln, nl, s, incode, code, done_rv, cur_sh) {
    cur_page = p
    out_file = outdir "/" page_name[p] ".3"
    n = page_funcs(p, names)
    emit(".\\\" Generated by abi/man/mkman.awk from abi/sdtls.h and abi/man/" page_name[p] ".3.md:")
    emit(".\\\" edit those, not this file.")
    emit(".TH " toupper(page_name[p]) " 3 \"" date "\" \"sdtls " version "\" \"sdtls Manual\"")
    # No hyphenation, ragged right: names and codes stay whole.
    emit(".nh")
    emit(".ad l")
    emit(".SH NAME")
    namelist = page_name[p]
    for (i = 1; i <= n; i++) if (names[i] != page_name[p]) namelist = namelist ", " names[i]
    emit(namelist " \\- " esc(page_summary[p]))
    emit_synopsis(p)
    nl = split(page_body[p], ln, "\n")
    incode = 0
    code = ""
    para = ""
    done_rv = 0
    cur_sh = ""
    for (i = 1; i <= nl; i++) {
        s = ln[i]
        if (incode) {
            if (s ~ /^```[ \t]*$/) { emit_code(code); incode = 0; code = ""; continue }
            code = code (code == "" ? "" : "\n") s
            continue
        }
        if (s ~ /^```/) { flush_para(); incode = 1; continue }
        if (s ~ /^# /) {
            flush_para()
            if (cur_sh == "DESCRIPTION" && !done_rv) { emit_return_value(p); done_rv = 1 }
            cur_sh = substr(s, 3)
            emit(".SH " cur_sh)
            para = ""
            continue
        }
        if (s ~ /^## /) { flush_para(); emit(".SS " inline(substr(s, 4))); para = ""; continue }
        if (s == "@header") { flush_para(); emit_header_items(p); continue }
        if (s == "@overview") { flush_para(); emit_overview(); continue }
        if (s == "@index") { flush_para(); emit_index(); continue }
        if (s ~ /^@/) die(page_path[p] ":" i + 1 ": unknown directive " s)
        para = para s "\n"
    }
    if (incode) die(page_path[p] ": unterminated ``` block")
    flush_para()
    if (!done_rv) emit_return_value(p)
    emit_availability(p)
    if (page_see[p] != "") {
        emit(".SH SEE ALSO")
        emit(line_safe(inline(page_see[p])))
    }
    close(out_file)
    for (i = 1; i <= n; i++) {
        if (names[i] == page_name[p]) continue
        s = outdir "/" names[i] ".3"
        print ".so man3/" page_name[p] ".3" > s
        close(s)
    }
}

# A paragraph of page source text, as prose.
function flush_para() {
    if (para != "") emit_prose(para, 1)
    para = ""
}

BEGIN {
    if (header == "" || list == "" || outdir == "") die("usage: awk -v header=H -v list=L -v outdir=D [-v date=D] -f mkman.awk PAGE.3.md...")
    read_list()
    read_header()
    version = ""
    for (i = 1; i <= hcount; i++)
        if (H[i] ~ /^#define SDTLS_VERSION_STRING "/) { version = H[i]; sub(/^[^"]*"/, "", version); sub(/".*$/, "", version) }
    if (version == "") die(header ": no SDTLS_VERSION_STRING")
    for (i = 1; i < ARGC; i++) read_page(ARGV[i])
    if (npages == 0) die("no page sources given")
    # Every section of the header is on a page; every function is listed.
    for (s = 1; s <= nsec; s++) {
        used = 0
        for (k = 1; k <= nitems; k++) if (item_sec[k] == s) used = 1
        if (used && !(s in sec_page))
            die(header ": no page documents the section \"" sec_title[s] "\" (name it in the sections: of an abi/man/*.3.md, or add a page)")
    }
    for (k = 1; k <= nitems; k++)
        if (item_kind[k] == "func" && !(item_name[k] in node_of))
            die(header ":" item_line[k] ": " item_name[k] " is not in " list)
    # Pages in the header's order (the section each one documents first).
    for (q = 1; q <= npages; q++) {
        first[q] = nsec + 1
        for (s = nsec; s >= 1; s--) if ((s in sec_page) && sec_page[s] == q) first[q] = s
    }
    for (q = 1; q <= npages; q++) order[q] = q
    for (q = 2; q <= npages; q++)
        for (r = q; r > 1 && first[order[r - 1]] > first[order[r]]; r--) { t = order[r]; order[r] = order[r - 1]; order[r - 1] = t }
    for (q = 1; q <= npages; q++) write_page(q)
    exit 0
}
