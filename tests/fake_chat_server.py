#!/usr/bin/env python3
"""A tiny OpenAI-compatible chat-completions server for tests/Agents.Tests.ps1.

Usage: fake_chat_server.py PORTFILE LOGFILE STATUS[,STATUS...]
Binds 127.0.0.1 on a free port (written to PORTFILE), records every request as one JSON line in LOGFILE
(method, path, authorization, body), and answers request i with STATUS[i] (the last one repeats):
200 streams "Hello from fake" as server-sent events with usage; other codes send an OpenAI error body.
"""
import http.server, json, sys, threading

port_file, log_file, statuses = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(',')]
count = 0
lock = threading.Lock()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get('Content-Length', '0'))).decode('utf-8')
        with lock:
            with open(log_file, 'a', encoding='utf-8') as log:
                log.write(json.dumps({'method': 'POST', 'path': self.path, 'authorization': self.headers.get('Authorization'), 'body': json.loads(body)}) + '\n')
            status = statuses[min(count, len(statuses) - 1)]
            count += 1
        if status == 200:
            chunks = [{'choices': [{'index': 0, 'delta': {'role': 'assistant'}}]}]
            chunks += [{'choices': [{'index': 0, 'delta': {'content': piece}}]} for piece in ('Hello', ' from', ' fake')]
            chunks += [{'choices': [], 'usage': {'prompt_tokens': 12, 'completion_tokens': 3, 'total_tokens': 15}}]
            payload = ''.join('data: ' + json.dumps(c) + '\n\n' for c in chunks) + 'data: [DONE]\n\n'
            content_type = 'text/event-stream'
        else:
            payload = json.dumps({'error': {'message': 'fake failure %d' % status, 'type': 'server_error'}})
            content_type = 'application/json'
        data = payload.encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # several agents keep connections alive at once
with open(port_file, 'w') as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
