#!/bin/bash

__raftctl_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__raftctl_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__raftctl_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__raftctl_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_raftctl() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(-h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __raftctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    up|down|status|leader|start|stop|restart|kill|pause|resume|campaign|transfer-leader|partition|isolate|block|heal|slow-disk|failpoint|snapshot|logs|logs-view|timeline|top|entries|events|put|get|delete|cas|check|chaos|scenario|members|add-node|remove-node|promote|replace-node|repl|help)
        # Offer subcommand argument completions
        "_raftctl_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'up down status leader start stop restart kill pause resume campaign transfer-leader partition isolate block heal slow-disk failpoint snapshot logs logs-view timeline top entries events put get delete cas check chaos scenario members add-node remove-node promote replace-node repl help' -- "${cur}"))
        ;;
    esac
}

_raftctl_up() {
    repeating_flags=()
    non_repeating_flags=(--repl -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --nodes --base-port --election-timeout --heartbeat --fsync --raftd)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--nodes')
        return
        ;;
    '--base-port')
        return
        ;;
    '--election-timeout')
        return
        ;;
    '--heartbeat')
        return
        ;;
    '--fsync')
        __raftctl_add_completions -W 'always'$'\n''never'
        return
        ;;
    '--raftd')
        return
        ;;
    esac
}

_raftctl_down() {
    repeating_flags=()
    non_repeating_flags=(--purge -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac
}

_raftctl_status() {
    repeating_flags=()
    non_repeating_flags=(--json --watch -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac
}

_raftctl_leader() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --wait)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--wait')
        return
        ;;
    esac
}

_raftctl_start() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --raftd)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--raftd')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion start -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_stop() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion stop -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_restart() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --raftd)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--raftd')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion restart -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_kill() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --signal)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--signal')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion kill -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_pause() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion pause -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_resume() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion resume -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_campaign() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion campaign -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_transfer-leader() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --wait)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--wait')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion transfer-leader -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_partition() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion partition -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_isolate() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion isolate -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_block() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion block -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    2)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion block -- positional@1 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_heal() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac
}

_raftctl_slow-disk() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion slow-disk -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_failpoint() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 3

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion failpoint -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    2)
        __raftctl_add_completions -W 'before-leader-sync'$'\n''after-leader-sync'$'\n''after-append-sent'$'\n''after-commit-before-apply'$'\n''during-apply'$'\n''after-apply-before-reply'$'\n''before-follower-ack'$'\n''before-snapshot-install'$'\n''unsafe-stale-reads'
        return
        ;;
    3)
        __raftctl_add_completions -W 'crash'$'\n''pause:500ms'$'\n''drop'$'\n''on'$'\n''off'
        return
        ;;
    esac
}

_raftctl_snapshot() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion snapshot -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_logs() {
    repeating_flags=()
    non_repeating_flags=(--follow -f -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir -n)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '-n')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion logs -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_logs-view() {
    repeating_flags=()
    non_repeating_flags=(--follow -f -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --from --to --svg)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--from')
        return
        ;;
    '--to')
        return
        ;;
    '--svg')
        __raftctl_add_completions -f
        return
        ;;
    esac
}

_raftctl_timeline() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --since --from --to --svg --html)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--since')
        return
        ;;
    '--from')
        return
        ;;
    '--to')
        return
        ;;
    '--svg')
        __raftctl_add_completions -f
        return
        ;;
    '--html')
        __raftctl_add_completions -f
        return
        ;;
    esac
}

_raftctl_top() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --interval -n --iterations)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--interval')
        return
        ;;
    '-n'|'--iterations')
        return
        ;;
    esac
}

_raftctl_entries() {
    repeating_flags=()
    non_repeating_flags=(--follow -f -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --from --limit --type)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--from')
        return
        ;;
    '--limit')
        return
        ;;
    '--type')
        __raftctl_add_completions -W 'command'$'\n''noop'$'\n''configuration'
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion entries -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_events() {
    repeating_flags=()
    non_repeating_flags=(--follow -f -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion events -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_put() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --via --idempotency-key --timeout)
    __raftctl_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--via')
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion put -- --via "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    '--idempotency-key')
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_raftctl_get() {
    repeating_flags=()
    non_repeating_flags=(--stale -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac
}

_raftctl_delete() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --via --idempotency-key --timeout)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--via')
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion delete -- --via "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    '--idempotency-key')
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_raftctl_cas() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --via --idempotency-key --timeout)
    __raftctl_offer_flags_options 3

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--via')
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion cas -- --via "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    '--idempotency-key')
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_raftctl_check() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--budget --html)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--budget')
        return
        ;;
    '--html')
        __raftctl_add_completions -f
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -f
        return
        ;;
    esac
}

_raftctl_chaos() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --time --clients --keys --rate --seed --nemesis --out --budget)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--time')
        return
        ;;
    '--clients')
        return
        ;;
    '--keys')
        return
        ;;
    '--rate')
        return
        ;;
    '--seed')
        return
        ;;
    '--nemesis')
        return
        ;;
    '--out')
        return
        ;;
    '--budget')
        return
        ;;
    esac
}

_raftctl_scenario() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __raftctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|show|run)
        # Offer subcommand argument completions
        "_raftctl_scenario_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list show run' -- "${cur}"))
        ;;
    esac
}

_raftctl_scenario_list() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __raftctl_offer_flags_options 0
}

_raftctl_scenario_show() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __raftctl_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W 'election'$'\n''split-vote'$'\n''leader-crash'$'\n''crash-before-replicate'$'\n''crash-after-partial-replicate'$'\n''crash-after-full-replicate'$'\n''crash-after-commit-before-reply'$'\n''minority-leader'$'\n''one-way-link'$'\n''stale-follower-rejoins'$'\n''leader-transfer'$'\n''log-repair'$'\n''replace-node'$'\n''remove-leader'
        return
        ;;
    esac
}

_raftctl_scenario_run() {
    repeating_flags=()
    non_repeating_flags=(--json -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --nodes --pace --seed --raftd)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--nodes')
        return
        ;;
    '--pace')
        __raftctl_add_completions -W 'slow'$'\n''normal'$'\n''fast'
        return
        ;;
    '--seed')
        return
        ;;
    '--raftd')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W 'election'$'\n''split-vote'$'\n''leader-crash'$'\n''crash-before-replicate'$'\n''crash-after-partial-replicate'$'\n''crash-after-full-replicate'$'\n''crash-after-commit-before-reply'$'\n''minority-leader'$'\n''one-way-link'$'\n''stale-follower-rejoins'$'\n''leader-transfer'$'\n''log-repair'$'\n''replace-node'$'\n''remove-leader'
        return
        ;;
    esac
}

_raftctl_members() {
    repeating_flags=()
    non_repeating_flags=(--json -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac
}

_raftctl_add-node() {
    repeating_flags=()
    non_repeating_flags=(--learner -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --id --wait --raftd)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--id')
        return
        ;;
    '--wait')
        return
        ;;
    '--raftd')
        return
        ;;
    esac
}

_raftctl_remove-node() {
    repeating_flags=()
    non_repeating_flags=(--purge --force -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion remove-node -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_promote() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion promote -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_replace-node() {
    repeating_flags=()
    non_repeating_flags=(--force -h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir --wait --raftd)
    __raftctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    '--wait')
        return
        ;;
    '--raftd')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __raftctl_add_completions -W "$(__raftctl_custom_complete ---completion replace-node -- positional@0 "${COMP_CWORD}" "$(__raftctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_raftctl_repl() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--cluster-dir)
    __raftctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cluster-dir')
        return
        ;;
    esac
}

_raftctl_help() {
    :
}

complete -o filenames -F _raftctl raftctl
