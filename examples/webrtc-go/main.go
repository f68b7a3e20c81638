// SPDX-License-Identifier: Apache-2.0

// Command webrtc-go is the Go twin of examples/webrtc/answerer.py: an ICE-lite
// answerer that serves ../webrtc/index.html, answers the browser's offer and
// echoes its audio back over SRTP. ICE is pion/ice's agent (ICE-lite), SRTP
// pion/srtp's contexts, and DTLS sdtls's sans-I/O Conn (not pion/dtls), on
// the one connection ICE gives; sdtls.Classify tells DTLS from RTP there.
//
//	go run . -http-port 8080     # then open http://127.0.0.1:8080/
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/srtp/v3"
	"sdtls.dev/sdtls"
)

var (
	httpPort = flag.Int("http-port", 8080, "HTTP port for the page (0: any)")
	peers    = flag.Int("peers", 0, "exit 0 once this many browsers got media both ways (a test); 0: run on")
	packets  = flag.Int("packets", 50, "RTP packets each way that count (with -peers)")
	page     = flag.String("page", "../webrtc/index.html", "the page the browser loads")
)

// A peer is one browser: its ICE agent, its DTLS connection, its media.
type peer struct {
	ufrag                      string
	decrypted, browserReceived int
}

type answerer struct {
	cert, key []byte
	mu        sync.Mutex
	peers     map[string]*peer // by our ufrag
	done      chan string      // "PASS..." or "FAIL..."
}

func attr(sdp, name string) string {
	m := regexp.MustCompile(`(?m)^a=` + name + `:(.+?)\r?$`).FindStringSubmatch(sdp)
	if m == nil {
		return ""
	}
	return m[1]
}

// answer makes the ICE-lite agent for one offer and returns the SDP answer;
// the connection runs in a goroutine once ICE has a pair.
func (a *answerer) answer(offer string) (string, error) {
	opus := regexp.MustCompile(`(?m)^a=rtpmap:(\d+) opus/48000/2`).FindStringSubmatch(offer)
	if opus == nil || attr(offer, "fingerprint") == "" {
		return "", fmt.Errorf("the offer has no Opus or no fingerprint")
	}
	pin, err := sdtls.ParseFingerprint(attr(offer, "fingerprint")) // the browser's certificate
	if err != nil {
		return "", err
	}
	agent, err := ice.NewAgent(&ice.AgentConfig{Lite: true, IncludeLoopback: true,
		NetworkTypes: []ice.NetworkType{ice.NetworkTypeUDP4}, CandidateTypes: []ice.CandidateType{ice.CandidateTypeHost},
		InterfaceFilter: func(name string) bool { return name == "lo" }})
	if err != nil {
		return "", err
	}
	var candidates []string
	gathered := make(chan struct{})
	_ = agent.OnCandidate(func(c ice.Candidate) {
		if c == nil {
			close(gathered)
			return
		}
		candidates = append(candidates, "a=candidate:"+c.Marshal())
	})
	if err := agent.GatherCandidates(); err != nil {
		return "", err
	}
	<-gathered
	ufrag, pwd, _ := agent.GetLocalUserCredentials()
	p := &peer{ufrag: ufrag}
	a.mu.Lock()
	a.peers[ufrag] = p
	a.mu.Unlock()
	ssrc := rand.Uint32()
	go a.run(agent, p, attr(offer, "ice-ufrag"), attr(offer, "ice-pwd"), pin.String(), ssrc)
	fp, _ := sdtls.FingerprintOf(a.cert, "sha-256")
	mid := attr(offer, "mid")
	return strings.Join(append([]string{"v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
		"a=group:BUNDLE " + mid, "a=ice-lite",
		"m=audio 9 UDP/TLS/RTP/SAVPF " + opus[1], "c=IN IP4 127.0.0.1", "a=mid:" + mid, "a=sendrecv", "a=rtcp-mux",
		"a=ice-ufrag:" + ufrag, "a=ice-pwd:" + pwd, "a=fingerprint:" + fp.String(), "a=setup:passive",
		"a=rtpmap:" + opus[1] + " opus/48000/2", fmt.Sprintf("a=ssrc:%d cname:sdtls-echo", ssrc)},
		append(candidates, "a=end-of-candidates", "")...), "\r\n"), nil
}

// run is one browser's connection: ICE, then DTLS (sdtls, the server: our
// a=setup:passive) and SRTP on what ICE carries.
func (a *answerer) run(agent *ice.Agent, p *peer, ufrag, pwd, pin string, ssrc uint32) {
	defer agent.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := agent.Accept(ctx, ufrag, pwd)
	if err != nil {
		a.finish("FAIL: ICE: " + err.Error())
		return
	}
	// The browser's a=fingerprint is the pin: it replaces the CA check.
	dtls, err := sdtls.NewConn(&sdtls.Config{Certificate: a.cert, PrivateKey: a.key, PeerFingerprints: []string{pin},
		SRTPProfiles: []sdtls.SRTPProfile{sdtls.SRTP_AEAD_AES_128_GCM, sdtls.SRTP_AES128_CM_SHA1_80}}, sdtls.RoleServer)
	if err != nil {
		a.finish("FAIL: DTLS: " + err.Error())
		return
	}
	defer dtls.Close()
	datagrams := make(chan []byte, 64)
	go func() { // ICE's connection has no deadline of its own: reads go to the loop
		for buf := make([]byte, 1500); ; {
			n, err := conn.Read(buf)
			if err != nil {
				close(datagrams)
				return
			}
			datagrams <- append([]byte(nil), buf[:n]...)
		}
	}()
	var rx, tx *srtp.Context
	for {
		for d := dtls.NextDatagram(); d != nil; d = dtls.NextDatagram() {
			_, _ = conn.Write(d)
		}
		for ev, ok := dtls.NextEvent(); ok; ev, ok = dtls.NextEvent() {
			switch ev.Kind {
			case sdtls.EventHandshakeDone:
				st := dtls.ConnectionState()
				k, err := dtls.SRTPKeying()
				if err != nil {
					a.finish("FAIL: no SRTP keys: " + err.Error())
					return
				}
				profile := srtp.ProtectionProfile(k.Profile)
				rx, _ = srtp.CreateContext(k.RemoteWrite[:k.KeyLen], k.RemoteWrite[k.KeyLen:], profile)
				tx, _ = srtp.CreateContext(k.LocalWrite[:k.KeyLen], k.LocalWrite[k.KeyLen:], profile)
				fmt.Printf("%s: %s %s group %s %s, browser %s pinned\n", conn.RemoteAddr(), st.Version,
					st.CipherSuite, st.Group, st.SRTPProfile, st.PeerFingerprint)
			case sdtls.EventClosed:
				if ev.Err != nil {
					a.finish("FAIL: DTLS failed: " + ev.Err.Error())
				}
				return
			}
		}
		timer := time.NewTimer(time.Until(dtls.NextDeadline()))
		if dtls.NextDeadline().IsZero() {
			timer.Stop()
		}
		select {
		case d, ok := <-datagrams:
			timer.Stop()
			if !ok {
				return
			}
			switch sdtls.Classify(d) {
			case sdtls.PacketDTLS:
				_ = dtls.Receive(d, time.Now())
			case sdtls.PacketRTP:
				if rx == nil || len(d) < 12 || (d[1] >= 192 && d[1] <= 223) { // RTCP (RFC 5761 4): not echoed
					continue
				}
				plain, err := rx.DecryptRTP(nil, d, nil)
				if err != nil {
					continue
				}
				binary.BigEndian.PutUint32(plain[8:12], ssrc) // our SSRC, as the answer says
				if out, err := tx.EncryptRTP(nil, plain, nil); err == nil {
					_, _ = conn.Write(out)
				}
				a.mu.Lock()
				p.decrypted++
				a.mu.Unlock()
			}
		case <-timer.C:
			_ = dtls.HandleTimeout(time.Now())
		}
	}
}

// report takes the page's getStats() and says when a test run is over.
func (a *answerer) report(r map[string]any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.peers[fmt.Sprint(r["ufrag"])]
	if p == nil {
		return
	}
	if r["state"] == "failed" {
		go a.finish("FAIL: the browser says the connection failed")
	}
	if n, ok := r["received"].(float64); ok {
		p.browserReceived = int(n)
	}
	ok := 0
	for _, q := range a.peers {
		if q.decrypted >= *packets && q.browserReceived >= *packets {
			ok++
		}
	}
	if *peers > 0 && ok >= *peers {
		go a.finish(fmt.Sprintf("PASS: %d browser(s), media both ways (decrypted %d, browser received %d)",
			ok, p.decrypted, p.browserReceived))
	}
}

func (a *answerer) finish(why string) {
	fmt.Println(why)
	if *peers > 0 || !strings.HasPrefix(why, "FAIL") {
		select {
		case a.done <- why:
		default:
		}
	}
}

func main() {
	flag.Parse()
	cert, key, err := sdtls.GenerateCertificate("sdtls-webrtc-go", 1)
	if err != nil {
		log.Fatal(err)
	}
	a := &answerer{cert: cert, key: key, peers: map[string]*peer{}, done: make(chan string, 1)}
	html, err := os.ReadFile(*page)
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write(html)
		case r.Method == http.MethodPost && r.URL.Path == "/offer":
			answer, err := a.answer(string(body))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, answer)
		case r.Method == http.MethodPost && r.URL.Path == "/report":
			var report map[string]any
			if json.Unmarshal(body, &report) == nil {
				a.report(report)
			}
		default:
			http.NotFound(w, r)
		}
	})
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *httpPort))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("open http://%s/ (sdtls Go, %s)\n", ln.Addr(), func() string { _, v := sdtls.Version(); return v }())
	go func() { _ = http.Serve(ln, nil) }()
	if why := <-a.done; strings.HasPrefix(why, "FAIL") {
		os.Exit(1)
	}
}
