# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_veltix_global_optspecs
    string join \n color= type-name= types= log-level= v/verbose q/quiet log-file= log-max-size= log-backups= h/help V/version
end

function __fish_veltix_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_veltix_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_veltix_using_subcommand
    set -l cmd (__fish_veltix_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c veltix -n "__fish_veltix_needs_command" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_needs_command" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_needs_command" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_needs_command" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_needs_command" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_needs_command" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_needs_command" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_needs_command" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_needs_command" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_needs_command" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "serve" -d 'Run a server: log, echo, broadcast, count or exec each message'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "connect" -d 'Talk to a server: an interactive REPL, or netcat-like pipe mode'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "request" -d 'Send one request and print the correlated reply'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "ping" -d 'Measure round trips to a server, like ping(8)'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "bench" -d 'Benchmark: memory, latency, fps, burst and stress, with a raw-TCP baseline'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "decode" -d 'Inspect Veltix frames in a file, hex text or a pcap capture'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "encode" -d 'Write one Veltix frame to stdout'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "completions" -d 'Write a shell completion script to stdout'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "man" -d 'Write the man page (roff) to stdout'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "bench-helper" -d 'Options of the hidden client-side helper process (see `helper`)'
complete -c veltix -n "__fish_veltix_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l host -d 'Address to listen on (0.0.0.0: all IPv4; :: for IPv6). IPv6 with or without brackets: ::1 or [::1]' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -s p -l port -d 'Port to listen on (0: any free port; the log says which)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -s m -l mode -d 'What to do with each message' -r -f -a "log\t''
echo\t''
broadcast\t''
sink\t''
exec\t''"
complete -c veltix -n "__fish_veltix_using_subcommand serve" -s t -l type -d 'Type of the messages sent from lines typed on stdin (code or name)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l max-connections -d 'Most clients at once (1 or more); those over it are told why (1.6: an ERROR frame; vx: server_full) and closed' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l max-bytes -d 'In log mode, dump at most this many bytes of a binary payload (0: all)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l exec-timeout -d 'In exec mode, kill CMD (and all it started) if it runs longer than this, and answer with an ERROR frame' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l metrics -d 'Serve OpenMetrics at http://ADDR/metrics (HOST:PORT, e.g. 127.0.0.1:9100; port 0: any free port, the log says which)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l redis -d 'In broadcast mode, share broadcasts with the other nodes on this Redis (or Valkey): redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]; rediss:// for TLS' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l redis-ca -d 'With rediss://: the CA certificates (PEM) the server\'s certificate must chain to, instead of the system\'s trusted roots' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l redis-channel -d 'The Redis PUB/SUB channel the nodes share' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l data-dir -d 'With --tls and no --cert/--key: where the self-signed certificate is kept, in tls/ (default: $XDG_DATA_HOME/veltix, else ~/.local/share/veltix)' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l protocol-version -d 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l max-message-size -d 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l performance-mode -d 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)' -r -f -a "low\t''
balanced\t''
high\t''"
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l buffer-size -d 'The largest read from the socket: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes. Reads start at 1 KiB and grow to it while they come back full' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l handshake-timeout -d 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l max-outbound -d 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l core -d 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)' -r -f -a "threads\t''
poll\t''"
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l workers -d 'Threads that run message callbacks, at most (started as callbacks come); 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l io-threads -d 'I/O threads of the poll core\'s server (default: half the CPUs, rounded up, at most 4)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l wire -d 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server\'s first bytes; a server speaks 1.6 unless given vx' -r -f -a "1.6\t'veltix 1.6.3'
vx\t'veltix 2.0.3 to 3.3.x'
auto\t'Detect (clients); 1.6 for a server'"
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l cert -d 'A PEM certificate chain: serve\'s own (with --key), or a client\'s for servers that require one (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l key -d 'The PEM private key of --cert. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l cacert -d 'Clients: trust the CA certificates of this PEM file (instead of the system\'s roots). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l pin -d 'Clients: accept exactly the certificate with this SHA-256 fingerprint (sha256:HEX, or the colon-separated form openssl prints), whoever signed it. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l servername -d 'Clients: the name the server\'s certificate must bear, sent as SNI (default: the host of the address)' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l client-ca -d 'serve: require client certificates signed by the CAs of this PEM file (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand serve" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_using_subcommand serve" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l json -d 'Print NDJSON events (connect, message, disconnect, rate, relay) on stdout'
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l tls -d 'TLS 1.3. Clients verify the server\'s certificate against the system\'s roots (or --cacert, or --pin); serve uses --cert/--key, or a self-signed Ed25519 certificate made on first use and kept in the data directory (the log prints its fingerprint)'
complete -c veltix -n "__fish_veltix_using_subcommand serve" -l insecure -d 'Clients: accept any certificate. The traffic is encrypted, but to whoever answers: nothing stops someone in the middle. Implies --tls'
complete -c veltix -n "__fish_veltix_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_using_subcommand serve" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -s t -l type -d 'Type of the messages sent: a code (200, 0xc8) or a name given with --type-name or --types. In the REPL, the type of plain lines' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l linger -d 'Pipe mode: how long to wait for replies after the end of input (e.g. 500ms, 2s, 0)' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l retry -d 'Reconnection attempts after the connection is lost (and after a failed first connect)' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l retry-delay -d 'Delay before each reconnection attempt' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l connect-timeout -d 'Time allowed for the TCP connect' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l timeout -d 'How long /request and /ping wait for an answer, and how long pipe mode waits for the server to have read all input' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l history -d 'REPL: keep the line history in FILE' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l protocol-version -d 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l max-message-size -d 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l performance-mode -d 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)' -r -f -a "low\t''
balanced\t''
high\t''"
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l buffer-size -d 'The largest read from the socket: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes. Reads start at 1 KiB and grow to it while they come back full' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l handshake-timeout -d 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l max-outbound -d 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l core -d 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)' -r -f -a "threads\t''
poll\t''"
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l workers -d 'Threads that run message callbacks, at most (started as callbacks come); 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l io-threads -d 'I/O threads of the poll core\'s server (default: half the CPUs, rounded up, at most 4)' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l wire -d 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server\'s first bytes; a server speaks 1.6 unless given vx' -r -f -a "1.6\t'veltix 1.6.3'
vx\t'veltix 2.0.3 to 3.3.x'
auto\t'Detect (clients); 1.6 for a server'"
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l cert -d 'A PEM certificate chain: serve\'s own (with --key), or a client\'s for servers that require one (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l key -d 'The PEM private key of --cert. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l cacert -d 'Clients: trust the CA certificates of this PEM file (instead of the system\'s roots). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l pin -d 'Clients: accept exactly the certificate with this SHA-256 fingerprint (sha256:HEX, or the colon-separated form openssl prints), whoever signed it. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l servername -d 'Clients: the name the server\'s certificate must bear, sent as SNI (default: the host of the address)' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l client-ca -d 'serve: require client certificates signed by the CAs of this PEM file (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand connect" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_using_subcommand connect" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_using_subcommand connect" -s 0 -l null -d 'Pipe mode: records end with NUL bytes instead of newlines (as `find -print0` and `xargs -0` have it)'
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l raw -d 'Pipe mode: send all of stdin as one message'
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l json -d 'Pipe mode: write received messages as JSON lines instead of raw payloads'
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l no-history -d 'REPL: neither read nor write a history file'
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l tls -d 'TLS 1.3. Clients verify the server\'s certificate against the system\'s roots (or --cacert, or --pin); serve uses --cert/--key, or a self-signed Ed25519 certificate made on first use and kept in the data directory (the log prints its fingerprint)'
complete -c veltix -n "__fish_veltix_using_subcommand connect" -l insecure -d 'Clients: accept any certificate. The traffic is encrypted, but to whoever answers: nothing stops someone in the middle. Implies --tls'
complete -c veltix -n "__fish_veltix_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_using_subcommand connect" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_using_subcommand request" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_using_subcommand request" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand request" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_using_subcommand request" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand request" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l hex -d 'The payload as hex instead (spaces, `0x` and `xxd` dumps allowed)' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -s t -l type -d 'Message type: a code (200, 0xc8) or a known name' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l timeout -d 'How long to wait for each reply' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -s n -l count -d 'Send the request this many times over one connection, one after the other' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l max-bytes -d 'On a terminal, dump at most this many bytes of a binary reply (0: all)' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l connect-timeout -d 'Time allowed for the TCP connect' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l protocol-version -d 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l max-message-size -d 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l performance-mode -d 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)' -r -f -a "low\t''
balanced\t''
high\t''"
complete -c veltix -n "__fish_veltix_using_subcommand request" -l buffer-size -d 'The largest read from the socket: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes. Reads start at 1 KiB and grow to it while they come back full' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l handshake-timeout -d 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l max-outbound -d 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l core -d 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)' -r -f -a "threads\t''
poll\t''"
complete -c veltix -n "__fish_veltix_using_subcommand request" -l workers -d 'Threads that run message callbacks, at most (started as callbacks come); 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l io-threads -d 'I/O threads of the poll core\'s server (default: half the CPUs, rounded up, at most 4)' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l wire -d 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server\'s first bytes; a server speaks 1.6 unless given vx' -r -f -a "1.6\t'veltix 1.6.3'
vx\t'veltix 2.0.3 to 3.3.x'
auto\t'Detect (clients); 1.6 for a server'"
complete -c veltix -n "__fish_veltix_using_subcommand request" -l cert -d 'A PEM certificate chain: serve\'s own (with --key), or a client\'s for servers that require one (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l key -d 'The PEM private key of --cert. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l cacert -d 'Clients: trust the CA certificates of this PEM file (instead of the system\'s roots). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l pin -d 'Clients: accept exactly the certificate with this SHA-256 fingerprint (sha256:HEX, or the colon-separated form openssl prints), whoever signed it. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l servername -d 'Clients: the name the server\'s certificate must bear, sent as SNI (default: the host of the address)' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -l client-ca -d 'serve: require client certificates signed by the CAs of this PEM file (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand request" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_using_subcommand request" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_using_subcommand request" -l json -d 'Print one NDJSON record per reply (metadata, payload, rtt_us)'
complete -c veltix -n "__fish_veltix_using_subcommand request" -l tls -d 'TLS 1.3. Clients verify the server\'s certificate against the system\'s roots (or --cacert, or --pin); serve uses --cert/--key, or a self-signed Ed25519 certificate made on first use and kept in the data directory (the log prints its fingerprint)'
complete -c veltix -n "__fish_veltix_using_subcommand request" -l insecure -d 'Clients: accept any certificate. The traffic is encrypted, but to whoever answers: nothing stops someone in the middle. Implies --tls'
complete -c veltix -n "__fish_veltix_using_subcommand request" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_using_subcommand request" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -s c -l count -d 'Stop after this many pings (default: until Ctrl-C)' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -s i -l interval -d 'Time between pings (sub-millisecond allowed: 0.0005, 500us)' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -s W -l timeout -d 'How long to wait for each pong' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l connect-timeout -d 'Time allowed for the TCP connect' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l protocol-version -d 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l max-message-size -d 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l performance-mode -d 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)' -r -f -a "low\t''
balanced\t''
high\t''"
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l buffer-size -d 'The largest read from the socket: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes. Reads start at 1 KiB and grow to it while they come back full' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l handshake-timeout -d 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l max-outbound -d 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l core -d 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)' -r -f -a "threads\t''
poll\t''"
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l workers -d 'Threads that run message callbacks, at most (started as callbacks come); 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l io-threads -d 'I/O threads of the poll core\'s server (default: half the CPUs, rounded up, at most 4)' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l wire -d 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server\'s first bytes; a server speaks 1.6 unless given vx' -r -f -a "1.6\t'veltix 1.6.3'
vx\t'veltix 2.0.3 to 3.3.x'
auto\t'Detect (clients); 1.6 for a server'"
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l cert -d 'A PEM certificate chain: serve\'s own (with --key), or a client\'s for servers that require one (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l key -d 'The PEM private key of --cert. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l cacert -d 'Clients: trust the CA certificates of this PEM file (instead of the system\'s roots). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l pin -d 'Clients: accept exactly the certificate with this SHA-256 fingerprint (sha256:HEX, or the colon-separated form openssl prints), whoever signed it. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l servername -d 'Clients: the name the server\'s certificate must bear, sent as SNI (default: the host of the address)' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l client-ca -d 'serve: require client certificates signed by the CAs of this PEM file (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand ping" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_using_subcommand ping" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l json -d 'NDJSON: one record per pong or timeout, then a summary record'
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l tls -d 'TLS 1.3. Clients verify the server\'s certificate against the system\'s roots (or --cacert, or --pin); serve uses --cert/--key, or a self-signed Ed25519 certificate made on first use and kept in the data directory (the log prints its fingerprint)'
complete -c veltix -n "__fish_veltix_using_subcommand ping" -l insecure -d 'Clients: accept any certificate. The traffic is encrypted, but to whoever answers: nothing stops someone in the middle. Implies --tls'
complete -c veltix -n "__fish_veltix_using_subcommand ping" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_using_subcommand ping" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l only -d 'Scenarios to run (default: all but connections and load), in this order: memory, latency, fps, burst, stress, connections, load' -r -f -a "memory\t'Server RSS: idle, per client, with all clients, after teardown'
latency\t'Ping round trips'
fps\t'Game-server traffic at a fixed tick rate (two settings)'
burst\t'One client sending as fast as it can'
stress\t'Many clients sending at once'
connections\t'Many idle connections: server RSS per connection, connect rate, sample pings (not in the default set)'
load\t'Requests at a constant rate, latency corrected for coordinated omission (not in the default set)'"
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l target -d 'Run against an external echo server instead of the in-process one; delivery is counted from the echoes (memory is skipped)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l save -d 'Write the result document to FILE (after every scenario)' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l compare -d 'Compare two saved result documents: B / A for every figure' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l merge -d 'Merge saved documents of runs that loaded one server at the same time (from several machines): run i of each is added up, counts and rates summed, percentiles read from the sum of the stored histograms. Keeps the latency and load scenarios; --save writes the result, which is shown as a report (or with --json)' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l plot -d 'Draw the latency percentile distribution of every latency and load histogram in the saved documents (one curve per document and scenario) to OUT.svg' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l start-at -d 'Wait until this wall-clock instant (RFC 3339, e.g. 2030-01-01T12:00:00Z) before the first scenario, so that runs started on several machines overlap' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l runs -d 'Measured runs of each scenario; the report shows the median and min-max' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l warmup -d 'Discarded runs of each scenario before the measured ones' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l drain-timeout -d 'Stop waiting for outstanding messages after this long without a new arrival; what has not arrived is reported lost' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l latency-iterations -d 'Measured pings' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l latency-warmup -d 'Pings sent and discarded before measuring' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l latency-timeout -d 'Time allowed for one ping; a later answer counts as lost' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l fps-players -d 'Players of the first FPS run' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l fps-tick-rate -d 'Ticks per second of the first FPS run' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l fps-duration -d 'Duration of each FPS run' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l fps2-players -d 'Players of the second FPS run' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l fps2-tick-rate -d 'Ticks per second of the second FPS run' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l burst-count -d 'Messages in the burst' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l burst-payload -d 'Payload bytes of each burst message (the frame adds 22, or 15 with --wire vx)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l stress-clients -d 'Concurrent clients, each on its own thread' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l stress-msgs -d 'Messages each client sends' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l memory-clients -d 'Clients connected at the end of the memory scenario' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l memory-detail -d 'Clients connected one at a time to measure the cost of each' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l conn-count -d 'Idle connections to open (each is an open file in both processes)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l conn-sample -d 'Connections pinged, one at a time, once all are open (each allowed --latency-timeout)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l conn-sources -d 'Loopback addresses the helper\'s sockets connect from, round robin: one (127.0.0.2) or a range (127.0.0.1-127.0.0.8). Each source address has its own ephemeral ports towards the server (about 28,000, net.ipv4.ip_local_port_range), so more connections than that need several' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l load-rate -d 'Requests per second of the load scenario, over all its connections' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l load-connections -d 'Connections the load is spread over (each sends its share of the requests one at a time, each allowed --latency-timeout)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l load-duration -d 'Duration of each load run' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l load-message -d 'What each load request is: a PING, or an echo request of --load-payload bytes that the server sends back' -r -f -a "ping\t'PING, answered with PONG by any veltix peer'
echo\t'A request (type 403) of --load-payload bytes, answered by an echo server'"
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l load-payload -d 'Payload bytes of each echo request (--load-message echo)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l protocol-version -d 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l max-message-size -d 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l performance-mode -d 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)' -r -f -a "low\t''
balanced\t''
high\t''"
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l buffer-size -d 'The largest read from the socket: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes. Reads start at 1 KiB and grow to it while they come back full' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l handshake-timeout -d 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l max-outbound -d 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l core -d 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)' -r -f -a "threads\t''
poll\t''"
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l workers -d 'Threads that run message callbacks, at most (started as callbacks come); 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l io-threads -d 'I/O threads of the poll core\'s server (default: half the CPUs, rounded up, at most 4)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l wire -d 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server\'s first bytes; a server speaks 1.6 unless given vx' -r -f -a "1.6\t'veltix 1.6.3'
vx\t'veltix 2.0.3 to 3.3.x'
auto\t'Detect (clients); 1.6 for a server'"
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l cert -d 'A PEM certificate chain: serve\'s own (with --key), or a client\'s for servers that require one (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l key -d 'The PEM private key of --cert. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l cacert -d 'Clients: trust the CA certificates of this PEM file (instead of the system\'s roots). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l pin -d 'Clients: accept exactly the certificate with this SHA-256 fingerprint (sha256:HEX, or the colon-separated form openssl prints), whoever signed it. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l servername -d 'Clients: the name the server\'s certificate must bear, sent as SNI (default: the host of the address)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l client-ca -d 'serve: require client certificates signed by the CAs of this PEM file (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_using_subcommand bench" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l json -d 'Print the full result document as JSON on stdout instead of tables'
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l no-baseline -d 'Skip the baselines: raw TCP (one write per message) and bulk TCP (256 KiB writes)'
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l tls -d 'TLS 1.3. Clients verify the server\'s certificate against the system\'s roots (or --cacert, or --pin); serve uses --cert/--key, or a self-signed Ed25519 certificate made on first use and kept in the data directory (the log prints its fingerprint)'
complete -c veltix -n "__fish_veltix_using_subcommand bench" -l insecure -d 'Clients: accept any certificate. The traffic is encrypted, but to whoever answers: nothing stops someone in the middle. Implies --tls'
complete -c veltix -n "__fish_veltix_using_subcommand bench" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_using_subcommand bench" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l input -d 'Read the input as this format instead of detecting it' -r -f -a "bin\t'Raw frame bytes, as sent on the wire'
hex\t'Hex text: plain, spaced, `xxd` or `hexdump -C`'
pcap\t'A pcap or pcapng capture of TCP traffic'"
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l max-bytes -d 'Dump at most N payload bytes per frame (0: no limit). JSON output always carries the whole payload' -r
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l max-message-size -d 'Largest frame accepted, header included: bytes, or with a KiB/MiB suffix. A header declaring more desynchronises the stream: a 1.6 stream is decoded no further, a vx stream resumes at the next magic' -r
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l port -d 'Captures only: decode only the TCP connections with this port at either end' -r
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l wire -d 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x), or auto: detected for each input and each direction of a captured connection' -r -f -a "1.6\t'veltix 1.6.3'
vx\t'veltix 2.0.3 to 3.3.x'
auto\t'Detect (clients); 1.6 for a server'"
complete -c veltix -n "__fish_veltix_using_subcommand decode" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_using_subcommand decode" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_using_subcommand decode" -l json -d 'Print one JSON object per frame per line (NDJSON) instead of the listing; problems are objects with an "error" field'
complete -c veltix -n "__fish_veltix_using_subcommand decode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_using_subcommand decode" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l hex -d 'The payload as hex instead (spaces, `0x` and `xxd` dumps allowed)' -r
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l type -d 'Message type: a code (200, 0xc8) or a known name (ping, or chat after --type-name 200=chat)' -r
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l id -d 'Request id in hex: 8 digits with --wire 1.6 (a3f21c07), at most 4 with --wire vx (1234, i.e. 0 to 65535). Default: random' -r
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l timestamp -d 'Timestamp in milliseconds since the Unix epoch (default: now); --wire 1.6 only (VX frames have none)' -r
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l wire -d 'Wire profile: 1.6 (veltix 1.6.3) or vx (veltix 2.0.3 to 3.3.x)' -r -f -a "1.6\t''
vx\t''"
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l handshake -d 'With --wire vx: write this handshake message instead of a frame (server or client hello, ok, or server-full), as 3.3.0 sends it' -r -f -a "server\t'The server\'s hello: {"v": "3.3.0", "pv": "1.0", "meta": {}}'
client\t'The client\'s hello: {"v": "3.3.0", "pv": "1.0", "meta": {}}'
ok\t'The server\'s acceptance: {"result": "ok"}'
server-full\t'A full server\'s refusal, instead of its hello: {"error": "server_full"}'"
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l output -d 'Write raw bytes (bin) or one line of hex (hex). Default: bin, but hex when stdout is a terminal' -r -f -a "bin\t'The frame\'s bytes'
hex\t'The frame as one line of lowercase hex'"
complete -c veltix -n "__fish_veltix_using_subcommand encode" -l max-message-size -d 'Largest frame written, header included: bytes or 512K, 10M, 1G (1K to 4G)' -r
complete -c veltix -n "__fish_veltix_using_subcommand encode" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_using_subcommand encode" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_using_subcommand encode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_using_subcommand encode" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_using_subcommand completions" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_using_subcommand completions" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_using_subcommand completions" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand completions" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_using_subcommand completions" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand completions" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_using_subcommand completions" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_using_subcommand completions" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_using_subcommand completions" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_using_subcommand completions" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_using_subcommand man" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_using_subcommand man" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_using_subcommand man" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand man" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_using_subcommand man" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand man" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_using_subcommand man" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_using_subcommand man" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_using_subcommand man" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_using_subcommand man" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l color -d 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l type-name -d 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l types -d 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l log-level -d 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q' -r -f -a "trace\t''
debug\t''
info\t''
success\t''
warning\t''
error\t''
critical\t''
off\t''"
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l log-file -d 'Also write logs to this file (never coloured), rotating it by size' -r -F
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l log-max-size -d 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l log-backups -d 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l addr -d 'Server to connect the clients to' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l clients -d 'Clients to open at start' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l drain-timeout -d 'Stop waiting for echoes after this long without one' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l protocol-version -d 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l max-message-size -d 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l performance-mode -d 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)' -r -f -a "low\t''
balanced\t''
high\t''"
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l buffer-size -d 'The largest read from the socket: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes. Reads start at 1 KiB and grow to it while they come back full' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l handshake-timeout -d 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l max-outbound -d 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l core -d 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)' -r -f -a "threads\t''
poll\t''"
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l workers -d 'Threads that run message callbacks, at most (started as callbacks come); 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l io-threads -d 'I/O threads of the poll core\'s server (default: half the CPUs, rounded up, at most 4)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l wire -d 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server\'s first bytes; a server speaks 1.6 unless given vx' -r -f -a "1.6\t'veltix 1.6.3'
vx\t'veltix 2.0.3 to 3.3.x'
auto\t'Detect (clients); 1.6 for a server'"
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l cert -d 'A PEM certificate chain: serve\'s own (with --key), or a client\'s for servers that require one (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l key -d 'The PEM private key of --cert. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l cacert -d 'Clients: trust the CA certificates of this PEM file (instead of the system\'s roots). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l pin -d 'Clients: accept exactly the certificate with this SHA-256 fingerprint (sha256:HEX, or the colon-separated form openssl prints), whoever signed it. Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l servername -d 'Clients: the name the server\'s certificate must bear, sent as SNI (default: the host of the address)' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l client-ca -d 'serve: require client certificates signed by the CAs of this PEM file (mutual TLS). Implies --tls' -r
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -s v -l verbose -d 'More log output (-v: debug, -vv: trace)'
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -s q -l quiet -d 'Less log output (-q: errors only, -qq: nothing)'
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l count-echoes -d 'Count the messages the server sends back (for --target)'
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l tls -d 'TLS 1.3. Clients verify the server\'s certificate against the system\'s roots (or --cacert, or --pin); serve uses --cert/--key, or a self-signed Ed25519 certificate made on first use and kept in the data directory (the log prints its fingerprint)'
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -l insecure -d 'Clients: accept any certificate. The traffic is encrypted, but to whoever answers: nothing stops someone in the middle. Implies --tls'
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c veltix -n "__fish_veltix_using_subcommand bench-helper" -s V -l version -d 'Print version'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "serve" -d 'Run a server: log, echo, broadcast, count or exec each message'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "connect" -d 'Talk to a server: an interactive REPL, or netcat-like pipe mode'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "request" -d 'Send one request and print the correlated reply'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "ping" -d 'Measure round trips to a server, like ping(8)'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "bench" -d 'Benchmark: memory, latency, fps, burst and stress, with a raw-TCP baseline'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "decode" -d 'Inspect Veltix frames in a file, hex text or a pcap capture'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "encode" -d 'Write one Veltix frame to stdout'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "completions" -d 'Write a shell completion script to stdout'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "man" -d 'Write the man page (roff) to stdout'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "bench-helper" -d 'Internal: the client side of `bench`, run in a separate process'
complete -c veltix -n "__fish_veltix_using_subcommand help; and not __fish_seen_subcommand_from serve connect request ping bench decode encode completions man bench-helper help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
