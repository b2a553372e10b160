function __raftctl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __raftctl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __raftctl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __raftctl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __raftctl_parse_tokens -S
    set -l unparsed_tokens (__raftctl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'raftctl'
        __raftctl_parse_subcommand 0 'h/help'
        switch $unparsed_tokens[1]
        case 'up'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'nodes=' 'base-port=' 'election-timeout=' 'heartbeat=' 'fsync=' 'raftd=' 'repl' 'h/help'
        case 'down'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'purge' 'h/help'
        case 'status'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'json' 'watch' 'h/help'
        case 'leader'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'wait=' 'h/help'
        case 'start'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'raftd=' 'h/help'
        case 'stop'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'h/help'
        case 'restart'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'raftd=' 'h/help'
        case 'kill'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'signal=' 'h/help'
        case 'pause'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'h/help'
        case 'resume'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'h/help'
        case 'campaign'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'h/help'
        case 'transfer-leader'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'wait=' 'h/help'
        case 'partition'
            __raftctl_parse_subcommand -r 1 'cluster-dir=' 'h/help'
        case 'isolate'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'h/help'
        case 'block'
            __raftctl_parse_subcommand 2 'cluster-dir=' 'h/help'
        case 'heal'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'h/help'
        case 'slow-disk'
            __raftctl_parse_subcommand 2 'cluster-dir=' 'h/help'
        case 'failpoint'
            __raftctl_parse_subcommand 3 'cluster-dir=' 'h/help'
        case 'snapshot'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'h/help'
        case 'logs'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'f/follow' 'n=' 'h/help'
        case 'logs-view'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'from=' 'to=' 'svg=' 'f/follow' 'h/help'
        case 'timeline'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'since=' 'from=' 'to=' 'svg=' 'html=' 'h/help'
        case 'top'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'interval=' 'n/iterations=' 'h/help'
        case 'entries'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'from=' 'limit=' 'f/follow' 'type=' 'h/help'
        case 'events'
            __raftctl_parse_subcommand -r 1 'cluster-dir=' 'f/follow' 'h/help'
        case 'put'
            __raftctl_parse_subcommand 2 'cluster-dir=' 'via=' 'idempotency-key=' 'timeout=' 'h/help'
        case 'get'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'stale' 'h/help'
        case 'delete'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'via=' 'idempotency-key=' 'timeout=' 'h/help'
        case 'cas'
            __raftctl_parse_subcommand 3 'cluster-dir=' 'via=' 'idempotency-key=' 'timeout=' 'h/help'
        case 'check'
            __raftctl_parse_subcommand 1 'budget=' 'html=' 'h/help'
        case 'chaos'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'time=' 'clients=' 'keys=' 'rate=' 'seed=' 'nemesis=' 'out=' 'budget=' 'h/help'
        case 'scenario'
            __raftctl_parse_subcommand 0 'h/help'
            switch $unparsed_tokens[1]
            case 'list'
                __raftctl_parse_subcommand 0 'h/help'
            case 'show'
                __raftctl_parse_subcommand 1 'h/help'
            case 'run'
                __raftctl_parse_subcommand 1 'cluster-dir=' 'nodes=' 'pace=' 'seed=' 'json' 'raftd=' 'h/help'
            end
        case 'members'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'json' 'h/help'
        case 'add-node'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'id=' 'learner' 'wait=' 'raftd=' 'h/help'
        case 'remove-node'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'purge' 'force' 'h/help'
        case 'promote'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'h/help'
        case 'replace-node'
            __raftctl_parse_subcommand 1 'cluster-dir=' 'wait=' 'force' 'raftd=' 'h/help'
        case 'repl'
            __raftctl_parse_subcommand 0 'cluster-dir=' 'h/help'
        case 'help'
            __raftctl_parse_subcommand -r 1 
        end
    end
end

function __raftctl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __raftctl_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __raftctl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __raftctl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__raftctl_tokens -p)
    if test -z "$(__raftctl_tokens -t)"
        set -l index (count (__raftctl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'raftctl' -f
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'up' -d 'Create (first time) and start the cluster, then wait for a leader.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'down' -d 'Stop every node gracefully (SIGKILL after a timeout) and the supervisor.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'status' -d 'One row per node: process state, pid, role, term, leader, indexes, client URL.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'leader' -d 'Print the leader\'s id; fail (exit 1) if there is none by the deadline.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'start' -d 'Start a stopped or killed node.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'stop' -d 'Stop a node gracefully (a leader hands over leadership first); it stays down.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'restart' -d 'Stop a node gracefully, then start it.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'kill' -d 'Send a signal to a node (SIGKILL by default); a killed node is not restarted.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'pause' -d 'Freeze a node (SIGSTOP).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'resume' -d 'Unfreeze a paused node (SIGCONT).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'campaign' -d 'Make a node start an election now.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'transfer-leader' -d 'Hand leadership to a node (the leader catches it up first).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'partition' -d 'Cut traffic between groups of nodes, both ways.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'isolate' -d 'Cut one node off from all others, both ways.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'block' -d 'Drop traffic from one node to another, one way only.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'heal' -d 'Remove every cut and block.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'slow-disk' -d 'Delay every sync of a node\'s disk by DURATION (0 or off: back to normal).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'failpoint' -d 'List a node\'s failpoints, or arm one: crash, pause:DURATION, drop, on (unsafe ones), off.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'snapshot' -d 'Make a node take a snapshot and compact its log now.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'logs' -d 'Print a node\'s log lines (-f to follow).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'logs-view' -d 'Every node\'s log side by side, aligned by index: each entry\'s term, commit, applied, snapshot.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'timeline' -d 'The cluster over time: each node\'s role and term, elections, and every fault raftctl injected.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'top' -d 'A live full-screen view: per node role, term, indexes, lag, writes and reads per second, fsync p99.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'entries' -d 'Print a node\'s replicated log entries: index, term, type, command (-f to follow).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'events' -d 'Role, term and leader changes and elections, merged across nodes in time order (-f to follow).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'put' -d 'Write a key through any live node.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'get' -d 'Read a key linearizably (--stale: from the local node).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'delete' -d 'Delete a key.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'cas' -d 'Compare-and-set: write NEW only if the key currently holds OLD.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'check' -d 'Check that a history of client operations is linearizable, key by key.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'chaos' -d 'Run clients against the cluster under seeded faults, then check the history is linearizable.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'scenario' -d 'Act out a textbook Raft story on real processes, narrated, with its promised outcome checked.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'members' -d 'The members: voter or learner, addresses, match index (on the leader), process.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'add-node' -d 'Add a member: learner first, caught up (by snapshot if needed), then promoted to voter.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'remove-node' -d 'Remove a member (a leader hands over first); its process stops once the change is committed.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'promote' -d 'Make a learner a voter (refused until it holds every committed entry).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'replace-node' -d 'Replace a member whose data is lost: remove it, then add it back empty as a learner and promote it.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'repl' -d 'Open the interactive shell (plain `raftctl` does too when stdin is a terminal).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl up" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl up" nodes' -l 'nodes' -d 'Number of nodes (ids n1…nN; default 3).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl up" base-port' -l 'base-port' -d 'Use ports P…P+2N-1 (peer and client port per node); without it free ports are chosen.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl up" election-timeout' -l 'election-timeout' -d 'Randomized election timeout range (default 150ms-300ms).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl up" heartbeat' -l 'heartbeat' -d 'Heartbeat interval (default 50ms).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl up" fsync' -l 'fsync' -d 'always (default), or never (UNSAFE: acknowledged writes can be lost on a crash).' -rfka 'always never'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl up" raftd' -l 'raftd' -d 'The raftd binary (default: the one beside raftctl).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl up" repl' -l 'repl' -d 'Open the REPL once the cluster is up.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl up" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl down" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl down" purge' -l 'purge' -d 'Also delete the cluster directory and all its data.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl down" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl status" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl status" json' -l 'json' -d 'Print JSON.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl status" watch' -l 'watch' -d 'Refresh in place until interrupted (in the REPL: until a key is pressed).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl leader" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl leader" wait' -l 'wait' -d 'Wait up to this long for a leader, e.g. 5s.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl leader" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl start" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl start" -eq 1' -fka '(__raftctl_custom_completion ---completion start -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl start" raftd' -l 'raftd' -d 'The raftd binary.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl start" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl stop" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl stop" -eq 1' -fka '(__raftctl_custom_completion ---completion stop -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl stop" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl restart" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl restart" -eq 1' -fka '(__raftctl_custom_completion ---completion restart -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl restart" raftd' -l 'raftd' -d 'The raftd binary.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl restart" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl kill" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl kill" -eq 1' -fka '(__raftctl_custom_completion ---completion kill -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl kill" signal' -l 'signal' -d 'Signal name or number (KILL, TERM, 9, …).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl kill" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl pause" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl pause" -eq 1' -fka '(__raftctl_custom_completion ---completion pause -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl pause" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl resume" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl resume" -eq 1' -fka '(__raftctl_custom_completion ---completion resume -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl resume" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl campaign" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl campaign" -eq 1' -fka '(__raftctl_custom_completion ---completion campaign -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl campaign" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl transfer-leader" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl transfer-leader" -eq 1' -fka '(__raftctl_custom_completion ---completion transfer-leader -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl transfer-leader" wait' -l 'wait' -d 'How long to wait for the new leader.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl transfer-leader" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl partition" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl partition" -ge 1' -fka '(__raftctl_custom_completion ---completion partition -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl partition" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl isolate" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl isolate" -eq 1' -fka '(__raftctl_custom_completion ---completion isolate -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl isolate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl block" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl block" -eq 1' -fka '(__raftctl_custom_completion ---completion block -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl block" -eq 2' -fka '(__raftctl_custom_completion ---completion block -- positional@1 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl block" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl heal" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl heal" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl slow-disk" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl slow-disk" -eq 1' -fka '(__raftctl_custom_completion ---completion slow-disk -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl slow-disk" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl failpoint" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl failpoint" -eq 1' -fka '(__raftctl_custom_completion ---completion failpoint -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl failpoint" -eq 2' -fka 'before-leader-sync after-leader-sync after-append-sent after-commit-before-apply during-apply after-apply-before-reply before-follower-ack before-snapshot-install unsafe-stale-reads'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl failpoint" -eq 3' -fka 'crash pause:500ms drop on off'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl failpoint" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl snapshot" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl snapshot" -eq 1' -fka '(__raftctl_custom_completion ---completion snapshot -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl snapshot" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl logs" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl logs" -eq 1' -fka '(__raftctl_custom_completion ---completion logs -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl logs" f follow' -l 'follow' -s 'f' -d 'Keep printing new lines.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl logs" n' -s 'n' -d 'How many recent lines.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl logs" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl logs-view" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl logs-view" from' -l 'from' -d 'First index to show.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl logs-view" to' -l 'to' -d 'Last index to show.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl logs-view" svg' -l 'svg' -d 'Also write the picture as SVG to this file.' -rF
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl logs-view" f follow' -l 'follow' -s 'f' -d 'Redraw as the logs change, until interrupted.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl logs-view" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl timeline" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl timeline" since' -l 'since' -d 'Show the last DURATION, e.g. 5m.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl timeline" from' -l 'from' -d 'Start at this UTC time (2026-11-28T06:03:00Z), instead of --since.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl timeline" to' -l 'to' -d 'End at this UTC time (default: now).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl timeline" svg' -l 'svg' -d 'Write the picture as SVG to this file.' -rF
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl timeline" html' -l 'html' -d 'Write the picture as a self-contained HTML page to this file.' -rF
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl timeline" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl top" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl top" interval' -l 'interval' -d 'Time between frames (default 500ms).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl top" iterations n' -s 'n' -l 'iterations' -d 'Stop after this many frames (default: until q or Ctrl-C).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl top" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl entries" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl entries" -eq 1' -fka '(__raftctl_custom_completion ---completion entries -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl entries" from' -l 'from' -d 'First index.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl entries" limit' -l 'limit' -d 'At most this many entries (without -f).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl entries" f follow' -l 'follow' -s 'f' -d 'Keep printing new entries.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl entries" type' -l 'type' -d 'Only entries of this type.' -rfka 'command noop configuration'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl entries" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl events" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl events" f follow' -l 'follow' -s 'f' -d 'Keep printing new events.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl events" -ge 1' -fka '(__raftctl_custom_completion ---completion events -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl events" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl put" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl put" via' -l 'via' -d 'Send to this node only, once (no retry elsewhere).' -rfka '(__raftctl_custom_completion ---completion put -- --via (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl put" idempotency-key' -l 'idempotency-key' -d 'Use this Idempotency-Key (a retry with the same key applies at most once).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl put" timeout' -l 'timeout' -d 'Give up after this long (default 10s; with --via, the outcome is then unknown).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl put" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl get" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl get" stale' -l 'stale' -d 'Serve from one node\'s local state without a ReadIndex round.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl get" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl delete" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl delete" via' -l 'via' -d 'Send to this node only, once (no retry elsewhere).' -rfka '(__raftctl_custom_completion ---completion delete -- --via (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl delete" idempotency-key' -l 'idempotency-key' -d 'Use this Idempotency-Key (a retry with the same key applies at most once).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl delete" timeout' -l 'timeout' -d 'Give up after this long (default 10s; with --via, the outcome is then unknown).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl delete" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl cas" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl cas" via' -l 'via' -d 'Send to this node only, once (no retry elsewhere).' -rfka '(__raftctl_custom_completion ---completion cas -- --via (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl cas" idempotency-key' -l 'idempotency-key' -d 'Use this Idempotency-Key (a retry with the same key applies at most once).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl cas" timeout' -l 'timeout' -d 'Give up after this long (default 10s; with --via, the outcome is then unknown).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl cas" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl check" -eq 1' -F
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl check" budget' -l 'budget' -d 'Give up on a key after this long, e.g. 30s; the verdict is then unknown.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl check" html' -l 'html' -d 'Also write a self-contained HTML picture of the history to this file.' -rF
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl chaos" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl chaos" time' -l 'time' -d 'How long the clients run, e.g. 60s.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl chaos" clients' -l 'clients' -d 'Concurrent clients.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl chaos" keys' -l 'keys' -d 'Keys the clients share (k0, k1, …).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl chaos" rate' -l 'rate' -d 'Operations per second over all clients (0: as fast as they can).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl chaos" seed' -l 'seed' -d 'Seed of the fault schedule and the workload (default: random, printed).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl chaos" nemesis' -l 'nemesis' -d 'Faults to inject, comma-separated: kill,pause,partition,oneway,killall,failpoints.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl chaos" out' -l 'out' -d 'Where to write the history, faults, events and report (default: CLUSTER/chaos-TIMESTAMP).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl chaos" budget' -l 'budget' -d 'Give up checking a key after this long; the verdict is then UNKNOWN.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl chaos" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl scenario" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl scenario" -eq 1' -fa 'list' -d 'The built-in scenarios, each with a one-line summary.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl scenario" -eq 1' -fa 'show' -d 'Print a built-in scenario\'s script, to read it or start one of your own.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl scenario" -eq 1' -fa 'run' -d 'Run a built-in scenario by name, or a script FILE of your own.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl scenario list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl scenario show" -eq 1' -fka 'election split-vote leader-crash crash-before-replicate crash-after-partial-replicate crash-after-full-replicate crash-after-commit-before-reply minority-leader one-way-link stale-follower-rejoins leader-transfer log-repair replace-node remove-leader'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl scenario show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl scenario run" -eq 1' -fka 'election split-vote leader-crash crash-before-replicate crash-after-partial-replicate crash-after-full-replicate crash-after-commit-before-reply minority-leader one-way-link stale-follower-rejoins leader-transfer log-repair replace-node remove-leader'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl scenario run" cluster-dir' -l 'cluster-dir' -d 'Run on this cluster instead of a scratch one (it is changed by the scenario).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl scenario run" nodes' -l 'nodes' -d 'Cluster size for the scratch cluster (default: the scenario\'s own, usually 3).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl scenario run" pace' -l 'pace' -d 'slow (wait for Enter between steps), normal or fast.' -rfka 'slow normal fast'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl scenario run" seed' -l 'seed' -d 'Seed the nodes\' election timeouts (scratch cluster only), for a run that repeats.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl scenario run" json' -l 'json' -d 'Print a machine-readable transcript instead of the narration.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl scenario run" raftd' -l 'raftd' -d 'The raftd binary (default: the one beside raftctl).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl scenario run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl members" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl members" json' -l 'json' -d 'Print JSON.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl members" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl add-node" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl add-node" id' -l 'id' -d 'The new node\'s id (default: the next free nK).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl add-node" learner' -l 'learner' -d 'Leave it a learner (promote it later with `raftctl promote`).'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl add-node" wait' -l 'wait' -d 'How long it may take to catch up, e.g. 30s.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl add-node" raftd' -l 'raftd' -d 'The raftd binary.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl add-node" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl remove-node" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl remove-node" -eq 1' -fka '(__raftctl_custom_completion ---completion remove-node -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl remove-node" purge' -l 'purge' -d 'Also delete its data directory.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl remove-node" force' -l 'force' -d 'Remove it even if the remaining voters cannot form a quorum now.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl remove-node" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl promote" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl promote" -eq 1' -fka '(__raftctl_custom_completion ---completion promote -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl promote" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl replace-node" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_positional "raftctl replace-node" -eq 1' -fka '(__raftctl_custom_completion ---completion replace-node -- positional@0 (count (__raftctl_tokens -pc)) (__raftctl_tokens -tC))'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl replace-node" wait' -l 'wait' -d 'How long it may take to catch up, e.g. 30s.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl replace-node" force' -l 'force' -d 'Remove it even if the remaining voters cannot form a quorum now.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl replace-node" raftd' -l 'raftd' -d 'The raftd binary.' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl replace-node" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl repl" cluster-dir' -l 'cluster-dir' -d 'The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).' -rfka ''
complete -c 'raftctl' -n '__raftctl_should_offer_completions_for_flags_or_options "raftctl repl" h help' -s 'h' -l 'help' -d 'Show help information.'
