#!/usr/bin/env python3
"""A stand-in for Ollama's chat API, for tests/LlamaServer.Tests.ps1.

Usage: fake_ollama_server.py PORTFILE LOGFILE
Binds 127.0.0.1 on a free port (written to PORTFILE), records every POST /api/chat body as one JSON line in
LOGFILE, and answers as Ollama does with stream false; a model named "missing" gets Ollama's 404.
"""
import http.server, json, sys

port_file, log_file = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get('Content-Length', '0'))).decode('utf-8'))
        with open(log_file, 'a', encoding='utf-8') as f:
            f.write(json.dumps({'path': self.path, 'body': body}) + '\n')
        if body.get('model') == 'missing':
            status, answer = 404, {'error': "model 'missing' not found"}
        else:
            status, answer = 200, {'model': body.get('model'), 'message': {'role': 'assistant', 'content': 'fake ollama: ' + json.dumps(body.get('options'), sort_keys=True)},
                                   'done': True, 'prompt_eval_count': 9, 'eval_count': 4}
        data = json.dumps(answer).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
with open(port_file, 'w') as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
