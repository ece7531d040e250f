
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'veltix' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'veltix'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'veltix' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a server: log, echo, broadcast, count or exec each message')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Talk to a server: an interactive REPL, or netcat-like pipe mode')
            [CompletionResult]::new('request', 'request', [CompletionResultType]::ParameterValue, 'Send one request and print the correlated reply')
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'Measure round trips to a server, like ping(8)')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Benchmark: memory, latency, fps, burst and stress, with a raw-TCP baseline')
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Inspect Veltix frames in a file, hex text or a pcap capture')
            [CompletionResult]::new('encode', 'encode', [CompletionResultType]::ParameterValue, 'Write one Veltix frame to stdout')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Write a shell completion script to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the man page (roff) to stdout')
            [CompletionResult]::new('bench-helper', 'bench-helper', [CompletionResultType]::ParameterValue, 'Internal: the client side of `bench`, run in a separate process')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'veltix;serve' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Address to listen on (0.0.0.0: all IPv4; :: for IPv6). IPv6 with or without brackets: ::1 or [::1]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port to listen on (0: any free port; the log says which)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on (0: any free port; the log says which)')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'What to do with each message')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'What to do with each message')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Type of the messages sent from lines typed on stdin (code or name)')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Type of the messages sent from lines typed on stdin (code or name)')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Most clients at once (1 or more); those over it are told why (1.6: an ERROR frame; vx: server_full) and closed')
            [CompletionResult]::new('--max-bytes', '--max-bytes', [CompletionResultType]::ParameterName, 'In log mode, dump at most this many bytes of a binary payload (0: all)')
            [CompletionResult]::new('--exec-timeout', '--exec-timeout', [CompletionResultType]::ParameterName, 'In exec mode, kill CMD (and all it started) if it runs longer than this, and answer with an ERROR frame')
            [CompletionResult]::new('--metrics', '--metrics', [CompletionResultType]::ParameterName, 'Serve OpenMetrics at http://ADDR/metrics (HOST:PORT, e.g. 127.0.0.1:9100; port 0: any free port, the log says which)')
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'In broadcast mode, share broadcasts with the other nodes on this Redis (or Valkey): redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]; rediss:// for TLS')
            [CompletionResult]::new('--redis-ca', '--redis-ca', [CompletionResultType]::ParameterName, 'With rediss://: the CA certificates (PEM) the server''s certificate must chain to, instead of the system''s trusted roots')
            [CompletionResult]::new('--redis-channel', '--redis-channel', [CompletionResultType]::ParameterName, 'The Redis PUB/SUB channel the nodes share')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)')
            [CompletionResult]::new('--performance-mode', '--performance-mode', [CompletionResultType]::ParameterName, 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)')
            [CompletionResult]::new('--buffer-size', '--buffer-size', [CompletionResultType]::ParameterName, 'Bytes asked of the socket per read: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)')
            [CompletionResult]::new('--max-outbound', '--max-outbound', [CompletionResultType]::ParameterName, 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)')
            [CompletionResult]::new('--core', '--core', [CompletionResultType]::ParameterName, 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Threads that run message callbacks; 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)')
            [CompletionResult]::new('--io-threads', '--io-threads', [CompletionResultType]::ParameterName, 'I/O threads of the poll core''s server (default: half the CPUs, rounded up, at most 4)')
            [CompletionResult]::new('--wire', '--wire', [CompletionResultType]::ParameterName, 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server''s first bytes; a server speaks 1.6 unless given vx')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print NDJSON events (connect, message, disconnect, rate, relay) on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'veltix;connect' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Type of the messages sent: a code (200, 0xc8) or a name given with --type-name or --types. In the REPL, the type of plain lines')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Type of the messages sent: a code (200, 0xc8) or a name given with --type-name or --types. In the REPL, the type of plain lines')
            [CompletionResult]::new('--linger', '--linger', [CompletionResultType]::ParameterName, 'Pipe mode: how long to wait for replies after the end of input (e.g. 500ms, 2s, 0)')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Reconnection attempts after the connection is lost (and after a failed first connect)')
            [CompletionResult]::new('--retry-delay', '--retry-delay', [CompletionResultType]::ParameterName, 'Delay before each reconnection attempt')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed for the TCP connect')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long /request and /ping wait for an answer, and how long pipe mode waits for the server to have read all input')
            [CompletionResult]::new('--history', '--history', [CompletionResultType]::ParameterName, 'REPL: keep the line history in FILE')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)')
            [CompletionResult]::new('--performance-mode', '--performance-mode', [CompletionResultType]::ParameterName, 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)')
            [CompletionResult]::new('--buffer-size', '--buffer-size', [CompletionResultType]::ParameterName, 'Bytes asked of the socket per read: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)')
            [CompletionResult]::new('--max-outbound', '--max-outbound', [CompletionResultType]::ParameterName, 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)')
            [CompletionResult]::new('--core', '--core', [CompletionResultType]::ParameterName, 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Threads that run message callbacks; 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)')
            [CompletionResult]::new('--io-threads', '--io-threads', [CompletionResultType]::ParameterName, 'I/O threads of the poll core''s server (default: half the CPUs, rounded up, at most 4)')
            [CompletionResult]::new('--wire', '--wire', [CompletionResultType]::ParameterName, 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server''s first bytes; a server speaks 1.6 unless given vx')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('-0', '-0', [CompletionResultType]::ParameterName, 'Pipe mode: records end with NUL bytes instead of newlines (as `find -print0` and `xargs -0` have it)')
            [CompletionResult]::new('--null', '--null', [CompletionResultType]::ParameterName, 'Pipe mode: records end with NUL bytes instead of newlines (as `find -print0` and `xargs -0` have it)')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Pipe mode: send all of stdin as one message')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Pipe mode: write received messages as JSON lines instead of raw payloads')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'REPL: neither read nor write a history file')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'veltix;request' {
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'The payload as hex instead (spaces, `0x` and `xxd` dumps allowed)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Message type: a code (200, 0xc8) or a known name')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Message type: a code (200, 0xc8) or a known name')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for each reply')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Send the request this many times over one connection, one after the other')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Send the request this many times over one connection, one after the other')
            [CompletionResult]::new('--max-bytes', '--max-bytes', [CompletionResultType]::ParameterName, 'On a terminal, dump at most this many bytes of a binary reply (0: all)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed for the TCP connect')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)')
            [CompletionResult]::new('--performance-mode', '--performance-mode', [CompletionResultType]::ParameterName, 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)')
            [CompletionResult]::new('--buffer-size', '--buffer-size', [CompletionResultType]::ParameterName, 'Bytes asked of the socket per read: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)')
            [CompletionResult]::new('--max-outbound', '--max-outbound', [CompletionResultType]::ParameterName, 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)')
            [CompletionResult]::new('--core', '--core', [CompletionResultType]::ParameterName, 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Threads that run message callbacks; 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)')
            [CompletionResult]::new('--io-threads', '--io-threads', [CompletionResultType]::ParameterName, 'I/O threads of the poll core''s server (default: half the CPUs, rounded up, at most 4)')
            [CompletionResult]::new('--wire', '--wire', [CompletionResultType]::ParameterName, 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server''s first bytes; a server speaks 1.6 unless given vx')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one NDJSON record per reply (metadata, payload, rtt_us)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'veltix;ping' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Stop after this many pings (default: until Ctrl-C)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after this many pings (default: until Ctrl-C)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Time between pings (sub-millisecond allowed: 0.0005, 500us)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between pings (sub-millisecond allowed: 0.0005, 500us)')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'How long to wait for each pong')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for each pong')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed for the TCP connect')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)')
            [CompletionResult]::new('--performance-mode', '--performance-mode', [CompletionResultType]::ParameterName, 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)')
            [CompletionResult]::new('--buffer-size', '--buffer-size', [CompletionResultType]::ParameterName, 'Bytes asked of the socket per read: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)')
            [CompletionResult]::new('--max-outbound', '--max-outbound', [CompletionResultType]::ParameterName, 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)')
            [CompletionResult]::new('--core', '--core', [CompletionResultType]::ParameterName, 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Threads that run message callbacks; 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)')
            [CompletionResult]::new('--io-threads', '--io-threads', [CompletionResultType]::ParameterName, 'I/O threads of the poll core''s server (default: half the CPUs, rounded up, at most 4)')
            [CompletionResult]::new('--wire', '--wire', [CompletionResultType]::ParameterName, 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server''s first bytes; a server speaks 1.6 unless given vx')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'NDJSON: one record per pong or timeout, then a summary record')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'veltix;bench' {
            [CompletionResult]::new('--only', '--only', [CompletionResultType]::ParameterName, 'Scenarios to run (default: all but connections and load), in this order: memory, latency, fps, burst, stress, connections, load')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Run against an external echo server instead of the in-process one; delivery is counted from the echoes (memory is skipped)')
            [CompletionResult]::new('--save', '--save', [CompletionResultType]::ParameterName, 'Write the result document to FILE (after every scenario)')
            [CompletionResult]::new('--compare', '--compare', [CompletionResultType]::ParameterName, 'Compare two saved result documents: B / A for every figure')
            [CompletionResult]::new('--merge', '--merge', [CompletionResultType]::ParameterName, 'Merge saved documents of runs that loaded one server at the same time (from several machines): run i of each is added up, counts and rates summed, percentiles read from the sum of the stored histograms. Keeps the latency and load scenarios; --save writes the result, which is shown as a report (or with --json)')
            [CompletionResult]::new('--plot', '--plot', [CompletionResultType]::ParameterName, 'Draw the latency percentile distribution of every latency and load histogram in the saved documents (one curve per document and scenario) to OUT.svg')
            [CompletionResult]::new('--start-at', '--start-at', [CompletionResultType]::ParameterName, 'Wait until this wall-clock instant (RFC 3339, e.g. 2030-01-01T12:00:00Z) before the first scenario, so that runs started on several machines overlap')
            [CompletionResult]::new('--runs', '--runs', [CompletionResultType]::ParameterName, 'Measured runs of each scenario; the report shows the median and min-max')
            [CompletionResult]::new('--warmup', '--warmup', [CompletionResultType]::ParameterName, 'Discarded runs of each scenario before the measured ones')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'Stop waiting for outstanding messages after this long without a new arrival; what has not arrived is reported lost')
            [CompletionResult]::new('--latency-iterations', '--latency-iterations', [CompletionResultType]::ParameterName, 'Measured pings')
            [CompletionResult]::new('--latency-warmup', '--latency-warmup', [CompletionResultType]::ParameterName, 'Pings sent and discarded before measuring')
            [CompletionResult]::new('--latency-timeout', '--latency-timeout', [CompletionResultType]::ParameterName, 'Time allowed for one ping; a later answer counts as lost')
            [CompletionResult]::new('--fps-players', '--fps-players', [CompletionResultType]::ParameterName, 'Players of the first FPS run')
            [CompletionResult]::new('--fps-tick-rate', '--fps-tick-rate', [CompletionResultType]::ParameterName, 'Ticks per second of the first FPS run')
            [CompletionResult]::new('--fps-duration', '--fps-duration', [CompletionResultType]::ParameterName, 'Duration of each FPS run')
            [CompletionResult]::new('--fps2-players', '--fps2-players', [CompletionResultType]::ParameterName, 'Players of the second FPS run')
            [CompletionResult]::new('--fps2-tick-rate', '--fps2-tick-rate', [CompletionResultType]::ParameterName, 'Ticks per second of the second FPS run')
            [CompletionResult]::new('--burst-count', '--burst-count', [CompletionResultType]::ParameterName, 'Messages in the burst')
            [CompletionResult]::new('--burst-payload', '--burst-payload', [CompletionResultType]::ParameterName, 'Payload bytes of each burst message (the frame adds 22, or 15 with --wire vx)')
            [CompletionResult]::new('--stress-clients', '--stress-clients', [CompletionResultType]::ParameterName, 'Concurrent clients, each on its own thread')
            [CompletionResult]::new('--stress-msgs', '--stress-msgs', [CompletionResultType]::ParameterName, 'Messages each client sends')
            [CompletionResult]::new('--memory-clients', '--memory-clients', [CompletionResultType]::ParameterName, 'Clients connected at the end of the memory scenario')
            [CompletionResult]::new('--memory-detail', '--memory-detail', [CompletionResultType]::ParameterName, 'Clients connected one at a time to measure the cost of each')
            [CompletionResult]::new('--conn-count', '--conn-count', [CompletionResultType]::ParameterName, 'Idle connections to open (each is an open file in both processes)')
            [CompletionResult]::new('--conn-sample', '--conn-sample', [CompletionResultType]::ParameterName, 'Connections pinged, one at a time, once all are open (each allowed --latency-timeout)')
            [CompletionResult]::new('--conn-sources', '--conn-sources', [CompletionResultType]::ParameterName, 'Loopback addresses the helper''s sockets connect from, round robin: one (127.0.0.2) or a range (127.0.0.1-127.0.0.8). Each source address has its own ephemeral ports towards the server (about 28,000, net.ipv4.ip_local_port_range), so more connections than that need several')
            [CompletionResult]::new('--load-rate', '--load-rate', [CompletionResultType]::ParameterName, 'Requests per second of the load scenario, over all its connections')
            [CompletionResult]::new('--load-connections', '--load-connections', [CompletionResultType]::ParameterName, 'Connections the load is spread over (each sends its share of the requests one at a time, each allowed --latency-timeout)')
            [CompletionResult]::new('--load-duration', '--load-duration', [CompletionResultType]::ParameterName, 'Duration of each load run')
            [CompletionResult]::new('--load-message', '--load-message', [CompletionResultType]::ParameterName, 'What each load request is: a PING, or an echo request of --load-payload bytes that the server sends back')
            [CompletionResult]::new('--load-payload', '--load-payload', [CompletionResultType]::ParameterName, 'Payload bytes of each echo request (--load-message echo)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)')
            [CompletionResult]::new('--performance-mode', '--performance-mode', [CompletionResultType]::ParameterName, 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)')
            [CompletionResult]::new('--buffer-size', '--buffer-size', [CompletionResultType]::ParameterName, 'Bytes asked of the socket per read: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)')
            [CompletionResult]::new('--max-outbound', '--max-outbound', [CompletionResultType]::ParameterName, 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)')
            [CompletionResult]::new('--core', '--core', [CompletionResultType]::ParameterName, 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Threads that run message callbacks; 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)')
            [CompletionResult]::new('--io-threads', '--io-threads', [CompletionResultType]::ParameterName, 'I/O threads of the poll core''s server (default: half the CPUs, rounded up, at most 4)')
            [CompletionResult]::new('--wire', '--wire', [CompletionResultType]::ParameterName, 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server''s first bytes; a server speaks 1.6 unless given vx')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the full result document as JSON on stdout instead of tables')
            [CompletionResult]::new('--no-baseline', '--no-baseline', [CompletionResultType]::ParameterName, 'Skip the baselines: raw TCP (one write per message) and bulk TCP (256 KiB writes)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'veltix;decode' {
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Read the input as this format instead of detecting it')
            [CompletionResult]::new('--max-bytes', '--max-bytes', [CompletionResultType]::ParameterName, 'Dump at most N payload bytes per frame (0: no limit). JSON output always carries the whole payload')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest frame accepted, header included: bytes, or with a KiB/MiB suffix. A header declaring more desynchronises the stream: a 1.6 stream is decoded no further, a vx stream resumes at the next magic')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Captures only: decode only the TCP connections with this port at either end')
            [CompletionResult]::new('--wire', '--wire', [CompletionResultType]::ParameterName, 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x), or auto: detected for each input and each direction of a captured connection')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object per frame per line (NDJSON) instead of the listing; problems are objects with an "error" field')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'veltix;encode' {
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'The payload as hex instead (spaces, `0x` and `xxd` dumps allowed)')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Message type: a code (200, 0xc8) or a known name (ping, or chat after --type-name 200=chat)')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Request id in hex: 8 digits with --wire 1.6 (a3f21c07), at most 4 with --wire vx (1234, i.e. 0 to 65535). Default: random')
            [CompletionResult]::new('--timestamp', '--timestamp', [CompletionResultType]::ParameterName, 'Timestamp in milliseconds since the Unix epoch (default: now); --wire 1.6 only (VX frames have none)')
            [CompletionResult]::new('--wire', '--wire', [CompletionResultType]::ParameterName, 'Wire profile: 1.6 (veltix 1.6.3) or vx (veltix 2.0.3 to 3.3.x)')
            [CompletionResult]::new('--handshake', '--handshake', [CompletionResultType]::ParameterName, 'With --wire vx: write this handshake message instead of a frame (server or client hello, ok, or server-full), as 3.3.0 sends it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write raw bytes (bin) or one line of hex (hex). Default: bin, but hex when stdout is a terminal')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest frame written, header included: bytes or 512K, 10M, 1G (1K to 4G)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'veltix;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'veltix;man' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'veltix;bench-helper' {
            [CompletionResult]::new('--addr', '--addr', [CompletionResultType]::ParameterName, 'Server to connect the clients to')
            [CompletionResult]::new('--clients', '--clients', [CompletionResultType]::ParameterName, 'Clients to open at start')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'Stop waiting for echoes after this long without one')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'Protocol version announced in the handshake (veltix 1.6.3 peers require an exact match). 1 to 255 bytes')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest frame accepted (and sent), header included: bytes or 512K, 10M, 1G; from 1K (a handshake must fit) to 4G (the size field)')
            [CompletionResult]::new('--performance-mode', '--performance-mode', [CompletionResultType]::ParameterName, 'How fast a silent peer is probed and dropped: low (ping after 30 s, drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s)')
            [CompletionResult]::new('--buffer-size', '--buffer-size', [CompletionResultType]::ParameterName, 'Bytes asked of the socket per read: small (1 KiB), medium (8 KiB), large (64 KiB), huge (1 MiB), or a size in bytes')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s)')
            [CompletionResult]::new('--max-outbound', '--max-outbound', [CompletionResultType]::ParameterName, 'Bytes that may wait to be sent to one peer before it is judged too slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K)')
            [CompletionResult]::new('--core', '--core', [CompletionResultType]::ParameterName, 'Socket core: threads (a reader thread per connection; lowest latency) or poll (a few I/O threads multiplexing every connection; for thousands of clients)')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Threads that run message callbacks; 0 runs each callback on the thread that read the message (no hand-off, for quick callbacks)')
            [CompletionResult]::new('--io-threads', '--io-threads', [CompletionResultType]::ParameterName, 'I/O threads of the poll core''s server (default: half the CPUs, rounded up, at most 4)')
            [CompletionResult]::new('--wire', '--wire', [CompletionResultType]::ParameterName, 'Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or auto. A client with auto (the default) learns it from the server''s first bytes; a server speaks 1.6 unless given vx')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--type-name', '--type-name', [CompletionResultType]::ParameterName, 'Name a message type code, e.g. `--type-name 200=chat` (repeatable)')
            [CompletionResult]::new('--types', '--types', [CompletionResultType]::ParameterName, 'Read type names from a JSON file: {"200": "chat", "401": "player_move"}')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Least severe log level shown (default: warning; info for commands that serve). Overrides -v and -q')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also write logs to this file (never coloured), rotating it by size')
            [CompletionResult]::new('--log-max-size', '--log-max-size', [CompletionResultType]::ParameterName, 'Rotate the log file before it grows past this size: bytes, or with a binary unit (512K, 10M, 1G; K = 1024). 0 never rotates')
            [CompletionResult]::new('--log-backups', '--log-backups', [CompletionResultType]::ParameterName, 'Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are deleted. 0 keeps none')
            [CompletionResult]::new('--count-echoes', '--count-echoes', [CompletionResultType]::ParameterName, 'Count the messages the server sends back (for --target)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less log output (-q: errors only, -qq: nothing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'veltix;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a server: log, echo, broadcast, count or exec each message')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Talk to a server: an interactive REPL, or netcat-like pipe mode')
            [CompletionResult]::new('request', 'request', [CompletionResultType]::ParameterValue, 'Send one request and print the correlated reply')
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'Measure round trips to a server, like ping(8)')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Benchmark: memory, latency, fps, burst and stress, with a raw-TCP baseline')
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Inspect Veltix frames in a file, hex text or a pcap capture')
            [CompletionResult]::new('encode', 'encode', [CompletionResultType]::ParameterValue, 'Write one Veltix frame to stdout')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Write a shell completion script to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the man page (roff) to stdout')
            [CompletionResult]::new('bench-helper', 'bench-helper', [CompletionResultType]::ParameterValue, 'Internal: the client side of `bench`, run in a separate process')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'veltix;help;serve' {
            break
        }
        'veltix;help;connect' {
            break
        }
        'veltix;help;request' {
            break
        }
        'veltix;help;ping' {
            break
        }
        'veltix;help;bench' {
            break
        }
        'veltix;help;decode' {
            break
        }
        'veltix;help;encode' {
            break
        }
        'veltix;help;completions' {
            break
        }
        'veltix;help;man' {
            break
        }
        'veltix;help;bench-helper' {
            break
        }
        'veltix;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
