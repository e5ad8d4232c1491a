// Command httpserver is the target of the HTTP benchmarks: a minimal
// HTTP/1.1 server that answers every request with a fixed 2-byte 200, as
// cheaply as it can (a goroutine per connection, one buffered read and one
// write per request; request bodies are read and dropped), so that on one
// core it outruns the load tools measured against it.
//
//	httpserver -addr 127.0.0.1:0    prints "listening on ADDR", serves until killed
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

var response = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening on", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go serve(c)
	}
}

// serve answers the requests of one connection until it closes. Requests
// already buffered (pipelined) are answered with one write.
func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 16<<10)
	out := make([]byte, 0, 4096)
	for {
		closing, err := skipRequest(r)
		if err != nil {
			return
		}
		out = append(out, response...)
		if r.Buffered() > 0 && !closing {
			continue
		}
		if _, err := c.Write(out); err != nil || closing {
			return
		}
		out = out[:0]
	}
}

// skipRequest reads one request (head and body) and reports whether the
// client asked to close the connection.
func skipRequest(r *bufio.Reader) (closing bool, err error) {
	var length int64
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return false, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, _ = strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(bytes.TrimSpace(value), []byte("close"))
		}
	}
	_, err = io.CopyN(io.Discard, r, length)
	return closing, err
}
