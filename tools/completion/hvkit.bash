# SPDX-License-Identifier: Apache-2.0
# bash completion for hvkit(1): commands, options, VM ids, configuration
# files, device kinds and their properties.
#
# Nothing here is a copy of the tool's tables: the commands and options come
# from `hvkit --help` and `hvkit COMMAND --help`, the device kinds and their
# properties from `hvkit backends --json`, the VM ids from the state dir
# (what `hvkit list` reads: STATE/ID/ directories holding a state.json).

# The hvkit the command line runs (words[0]), else the one on PATH.
_hvkit_bin()
{
    local bin=${COMP_WORDS[0]}
    bin=${bin/#\~/$HOME}
    if [[ $bin == */* && -x $bin ]] || type -P "$bin" >/dev/null 2>&1; then
        printf '%s\n' "$bin"
    else
        printf 'hvkit\n'
    fi
}

# The global options of the command line being completed, to pass on.
_hvkit_global_args=()

_hvkit_commands()
{
    "$(_hvkit_bin)" --help 2>/dev/null |
        awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }'
}

# The options `hvkit CMD --help` lists (or the global ones without CMD).
_hvkit_options()
{
    "$(_hvkit_bin)" "$@" --help 2>/dev/null |
        sed -n -e 's/^ *\(-[A-Za-z0-9]\), \(--[A-Za-z0-9-]*\).*/\1\n\2/p' \
               -e 's/^ *\(--[A-Za-z0-9-]*\).*/\1/p' | grep -vx -e --help -e -h -e --help-all
}

# The state dir: --state-dir, else what hvk_vm_store_default_dir() picks.
_hvkit_state_dir()
{
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            --state-dir=*) printf '%s\n' "${COMP_WORDS[i]#--state-dir=}"; return ;;
            --state-dir)
                if [[ ${COMP_WORDS[i+1]} == = ]]; then
                    printf '%s\n' "${COMP_WORDS[i+2]}"
                else
                    printf '%s\n' "${COMP_WORDS[i+1]}"
                fi
                return ;;
        esac
    done
    if [[ -n ${XDG_RUNTIME_DIR-} ]]; then
        printf '%s\n' "$XDG_RUNTIME_DIR/hvkit"
    elif [[ $EUID -eq 0 ]]; then
        printf '%s\n' /run/hvkit
    else
        printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/hvkit"
    fi
}

# The VMs of the state dir: directories (not symlinks) with a state.json.
_hvkit_vm_ids()
{
    local store d id
    store=$(_hvkit_state_dir)
    store=${store/#\~/$HOME}
    [[ -d $store ]] || return
    for d in "$store"/*/; do
        d=${d%/}
        id=${d##*/}
        [[ $id == .* || -L $d || ! -f $d/state.json || -L $d/state.json ]] && continue
        printf '%s\n' "$id"
    done
}

# The devices hot-plugged into VM $1: the "id"s of the "hotplugged" objects
# of `hvkit status ID --json` (json-glib's pretty output: the objects'
# members are indented two levels deeper than "hotplugged").
_hvkit_device_ids()
{
    "$(_hvkit_bin)" "${_hvkit_global_args[@]}" status "$1" --json 2>/dev/null | awk '
        match($0, /^ *"hotplugged" : \[/) {
            if ($0 ~ /\[\]/) next
            n = index($0, "\"") - 1; on = 1; next
        }
        on && $0 ~ "^" sprintf("%" n "s", "") "\\]" { on = 0; next }
        on && index($0, "\"id\" :") == n + 5 {
            v = $0; sub(/^[^:]*: */, "", v); sub(/,$/, "", v); gsub(/"/, "", v); print v
        }'
}

# The block and net devices of VM $1, whose I/O limits iotune shows.
_hvkit_limited_device_ids()
{
    "$(_hvkit_bin)" "${_hvkit_global_args[@]}" iotune "$1" --json 2>/dev/null | awk '
        /^ *"device" :/ { v = $0; sub(/^[^:]*: */, "", v); sub(/,$/, "", v); gsub(/"/, "", v); print v }'
}

# "KIND" lines, then "KIND PROP TYPE PATH" lines, from `hvkit backends
# --json` (json-glib's pretty output, one member a line), every backend's
# kinds together.
_hvkit_kinds_table()
{
    "$(_hvkit_bin)" "${_hvkit_global_args[@]}" backends --json 2>/dev/null | awk '
        function value(line) { sub(/^[^:]*: */, "", line); sub(/,$/, "", line); gsub(/"/, "", line); return line }
        /"device_kinds" : \[/ { kinds = 1; if ($0 ~ /\[\]/) kinds = 0; next }
        kinds && /"props" : \[\]/ { next }
        kinds && /"props" : \[/ { props = 1; next }
        kinds && props && /^ *\]/ { props = 0; next }
        kinds && !props && /^ *\]/ { kinds = 0; next }
        kinds && !props && /^ *"name" :/ { kind = value($0); print kind; next }
        kinds && props && /^ *"name" :/ { prop = value($0); next }
        kinds && props && /^ *"type" :/ { type = value($0); next }
        kinds && props && /^ *"path" :/ { print kind, prop, type, value($0); next }
    ' | sort -u
}

# Completes the value of --device: KIND,id=ID,key=value,…  $1 is the
# whole value typed so far; the replies are cut to what readline replaces
# (the text after the last `=` or `:`, which COMP_WORDBREAKS splits at).
_hvkit_complete_device()
{
    local value=$1 table kind head last prop type path f reply=()
    table=$(_hvkit_kinds_table)
    if [[ $value != *,* ]]; then
        reply=($(compgen -W "$(awk 'NF == 1' <<<"$table")" -S , -- "$value"))
    else
        kind=${value%%,*}
        head=${value%,*},
        last=${value##*,}
        if [[ $last == *=* ]]; then
            prop=${last%%=*}
            read -r _ _ type path < <(awk -v k="$kind" -v p="$prop" \
                                          'NF == 4 && $1 == k && $2 == p' <<<"$table")
            if [[ $type == boolean ]]; then
                reply=($(compgen -W "true false" -P "$head$prop=" -- "${last#*=}"))
            elif [[ $path == true ]]; then
                while IFS= read -r f; do
                    [[ -d $f ]] && f+=/
                    reply+=("$head$prop=$f")
                done < <(compgen -f -- "${last#*=}")
            fi
        else
            reply=($(compgen -W "id $(awk -v k="$kind" 'NF == 4 && $1 == k { print $2 }' <<<"$table")" \
                             -P "$head" -S = -- "$last"))
        fi
    fi
    local cut=${value%"${value##*[=:]}"}
    COMPREPLY=()
    for f in "${reply[@]}"; do
        COMPREPLY+=("${f#"$cut"}")
    done
    # A kind goes on with its properties, a property with its value.
    [[ ${#reply[@]} -eq 1 && ${reply[0]} == *[,=/] ]] && compopt -o nospace 2>/dev/null
    return 0
}

# Configuration files: *.conf and directories, else any file.
_hvkit_complete_config()
{
    local cur=$1 f
    COMPREPLY=()
    while IFS= read -r f; do
        if [[ -d $f ]]; then
            COMPREPLY+=("$f/")
        elif [[ $f == *.conf ]]; then
            COMPREPLY+=("$f")
        fi
    done < <(compgen -f -- "$cur")
    if [[ ${#COMPREPLY[@]} -eq 0 ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
    compopt -o nospace -o filenames 2>/dev/null
}

_hvkit()
{
    local cur prev i cmd= cmd_index=0 n_args=0
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    _hvkit_global_args=()

    # `--opt=value` splits into `--opt`, `=`, `value` with the default
    # COMP_WORDBREAKS.
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = && COMP_CWORD -ge 2 ]]; then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi
    if [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
    fi

    # The command: the first word that is neither a global option nor its
    # value.
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            --state-dir | --plugin-path)
                _hvkit_global_args+=("${COMP_WORDS[i]}")
                if [[ ${COMP_WORDS[i+1]} == = ]]; then
                    ((i++))
                fi
                ((i++))
                _hvkit_global_args+=("${COMP_WORDS[i]}")
                ;;
            --state-dir=* | --plugin-path=*) _hvkit_global_args+=("${COMP_WORDS[i]}") ;;
            -*) ;;
            *) cmd=${COMP_WORDS[i]}; cmd_index=$i; break ;;
        esac
    done

    if [[ -z $cmd ]]; then
        case $prev in
            --state-dir | --plugin-path)
                COMPREPLY=($(compgen -d -- "$cur"))
                compopt -o nospace -o filenames 2>/dev/null
                return ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$(_hvkit_options)" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_hvkit_commands)" -- "$cur"))
        fi
        return
    fi

    # iotune's --device names one of the VM's devices.
    if [[ $cmd == iotune && $prev == --device ]]; then
        for ((i = cmd_index + 1; i < COMP_CWORD; i++)); do
            [[ ${COMP_WORDS[i]} == -* ]] && continue
            COMPREPLY=($(compgen -W "$(_hvkit_limited_device_ids "${COMP_WORDS[i]}")" -- "$cur"))
            break
        done
        return
    fi

    # --device's value, as the shell splits words (at blanks only).
    local line=${COMP_LINE:0:COMP_POINT} swords sword sprev
    read -ra swords <<<"$line"
    if [[ $line == *[[:space:]] ]]; then
        sword=
        sprev=${swords[${#swords[@]}-1]}
    else
        sword=${swords[${#swords[@]}-1]}
        sprev=${swords[${#swords[@]}-2]}
    fi
    if [[ $sword == --device=* ]]; then
        _hvkit_complete_device "${sword#--device=}"
        return
    elif [[ $sprev == --device && $sword != -* ]]; then
        _hvkit_complete_device "$sword"
        return
    fi

    case $prev in
        -c | --config) _hvkit_complete_config "$cur"; return ;;
        --device-id)
            # The VM: the first argument after the command.
            for ((i = cmd_index + 1; i < COMP_CWORD; i++)); do
                [[ ${COMP_WORDS[i]} == -* ]] && continue
                COMPREPLY=($(compgen -W "$(_hvkit_device_ids "${COMP_WORDS[i]}")" -- "$cur"))
                break
            done
            return ;;
        --id | --vcpus | --memory | --timeout | --target | --stats-interval | --bps | --burst | --iops | --iops-burst | --rx | --tx) return ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_hvkit_options "$cmd")" -- "$cur"))
        return
    fi

    # Positional arguments so far (words after the command that are neither
    # options nor option values).
    for ((i = cmd_index + 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -c | --config | --id | --device | --device-id | --vcpus | --memory | --timeout | --target | --stats-interval | --bps | --burst | --iops | --iops-burst | --rx | --tx) ((i++)) ;;
            = ) ((i++)) ;;
            -*) ;;
            *) ((n_args++)) ;;
        esac
    done

    case $cmd in
        restore)
            if [[ $n_args -eq 0 ]]; then
                COMPREPLY=($(compgen -d -- "$cur"))
            fi
            ;;
        save)
            if [[ $n_args -eq 0 ]]; then
                COMPREPLY=($(compgen -W "$(_hvkit_vm_ids)" -- "$cur"))
            elif [[ $n_args -eq 1 ]]; then
                COMPREPLY=($(compgen -d -- "$cur"))
            fi
            ;;
        status | stats | events | logs | console | pause | resume | template | shutdown | reboot | stop | hotplug | unplug | resize | balloon | iotune)
            if [[ $n_args -eq 0 ]]; then
                COMPREPLY=($(compgen -W "$(_hvkit_vm_ids)" -- "$cur"))
            fi
            ;;
    esac
}

complete -F _hvkit hvkit
