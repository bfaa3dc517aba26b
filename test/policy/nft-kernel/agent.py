"""Packet agent for the nftables differential test (test/policy/nft-kernel.test.ts).

Runs inside one network namespace, attached to one interface. Reads JSON commands, one per line, on stdin and
answers one JSON line each on stdout:
  {"op": "start"}                 start capturing IPv4 packets arriving on the interface
  {"op": "send", "packets": [..]}  send raw IPv4 packets (any source address) with the fields below
  {"op": "stop"}                  stop capturing; answer {"seen": [..]} with every packet captured since start
Packet fields: id (IP id), src, dst, proto (6, 17, 1), sport, dport, flags (TCP flag bits), seq, ack, icmpType,
icmpId. Only the standard library: raw sockets need root, which the test checks before starting agents.
"""
import json
import select
import socket
import struct
import sys
import threading

IFACE = sys.argv[1]
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def build(p):
    src = socket.inet_aton(p["src"])
    dst = socket.inet_aton(p["dst"])
    proto = p["proto"]
    if proto == 6:
        header = struct.pack("!HHIIBBHHH", p["sport"], p["dport"], p.get("seq", 0), p.get("ack", 0), 5 << 4,
                             p["flags"], 65535, 0, 0)
        payload = header
    elif proto == 17:
        body = b"portcull"
        header = struct.pack("!HHHH", p["sport"], p["dport"], 8 + len(body), 0)
        payload = header + body
    else:
        body = b"portcull"
        payload = struct.pack("!BBHHH", p["icmpType"], 0, 0, p.get("icmpId", 0), 1) + body
    if proto in (6, 17):
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(payload))
        value = checksum(pseudo + payload)
        offset = 16 if proto == 6 else 6
        payload = payload[:offset] + struct.pack("!H", value or 0xFFFF) + payload[offset + 2:]
    else:
        payload = payload[:2] + struct.pack("!H", checksum(payload)) + payload[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), p["id"], 0, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + payload


def parse(data):
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 15) * 4
    proto = data[9]
    seen = {"id": struct.unpack("!H", data[4:6])[0], "proto": proto,
            "src": socket.inet_ntoa(data[12:16]), "dst": socket.inet_ntoa(data[16:20])}
    l4 = data[ihl:]
    if proto in (6, 17) and len(l4) >= 4:
        seen["sport"], seen["dport"] = struct.unpack("!HH", l4[:4])
        if proto == 6 and len(l4) >= 14:
            seen["flags"] = l4[13]
    elif proto == 1 and len(l4) >= 8:
        seen["icmpType"], seen["icmpCode"] = l4[0], l4[1]
        inner = l4[8:]
        if seen["icmpType"] == 3 and len(inner) >= 20:
            seen["innerId"] = struct.unpack("!H", inner[4:6])[0]
            seen["innerSrc"] = socket.inet_ntoa(inner[12:16])
    return seen


class Capture:
    def __init__(self):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        self.sock.bind((IFACE, 0))
        self.running = False
        self.seen = []
        self.thread = None

    def start(self):
        # Drop whatever arrived between rounds.
        while select.select([self.sock], [], [], 0)[0]:
            self.sock.recv(65535)
        self.seen = []
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while self.running:
            if select.select([self.sock], [], [], 0.02)[0]:
                data, address = self.sock.recvfrom(65535)
                if address[2] == PACKET_OUTGOING:
                    continue
                parsed = parse(data)
                if parsed is not None:
                    self.seen.append(parsed)

    def stop(self):
        self.running = False
        self.thread.join()
        return self.seen


def main():
    capture = Capture()
    sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    print(json.dumps({"ready": IFACE}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "start":
            capture.start()
            print(json.dumps({"ok": True}), flush=True)
        elif command["op"] == "send":
            for packet in command["packets"]:
                sender.sendto(build(packet), (packet["dst"], 0))
            print(json.dumps({"sent": len(command["packets"])}), flush=True)
        elif command["op"] == "stop":
            print(json.dumps({"seen": capture.stop()}), flush=True)


main()
