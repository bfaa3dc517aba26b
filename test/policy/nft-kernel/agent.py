"""Packet agent for the nftables differential test (test/policy/nft-kernel.test.ts).

Runs inside one network namespace, attached to one interface. Reads JSON commands, one per line, on stdin and
answers one JSON line each on stdout:
  {"op": "start"}                 start capturing IPv4 and IPv6 packets arriving on the interface
  {"op": "send", "packets": [..]}  send raw IPv4 / IPv6 packets (any source address) with the fields below
  {"op": "stop"}                  stop capturing; answer {"seen": [..]} with every packet captured since start
Packet fields: id (IPv4 id, IPv6 flow label), src, dst (IPv4 or IPv6), proto (6, 17, 1, 58), sport, dport, flags
(TCP flag bits), seq, ack, icmpType, icmpId. Only the standard library: raw sockets need root, which the test checks before starting agents.
"""
import json
import select
import socket
import struct
import sys
import threading

IFACE = sys.argv[1]
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def build(p):
    six = ":" in p["src"]
    family = socket.AF_INET6 if six else socket.AF_INET
    src = socket.inet_pton(family, p["src"])
    dst = socket.inet_pton(family, p["dst"])
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
    if six:
        pseudo = src + dst + struct.pack("!IxxxB", len(payload), proto)
    else:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(payload))
    if proto in (6, 17):
        value = checksum(pseudo + payload)
        offset = 16 if proto == 6 else 6
        payload = payload[:offset] + struct.pack("!H", value or 0xFFFF) + payload[offset + 2:]
    else:
        # ICMPv6 sums the pseudo-header too; ICMP does not.
        value = checksum((pseudo if six else b"") + payload)
        payload = payload[:2] + struct.pack("!H", value) + payload[4:]
    if six:
        head = struct.pack("!IHBB", (6 << 28) | (p["id"] & 0xFFFFF), len(payload), proto, 64)
        return head + src + dst + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), p["id"], 0, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + payload


def parse6(data):
    if len(data) < 40:
        return None
    proto = data[6]
    seen = {"id": struct.unpack("!I", data[0:4])[0] & 0xFFFFF, "proto": proto,
            "src": socket.inet_ntop(socket.AF_INET6, data[8:24]), "dst": socket.inet_ntop(socket.AF_INET6, data[24:40])}
    l4 = data[40:]
    if proto in (6, 17) and len(l4) >= 4:
        seen["sport"], seen["dport"] = struct.unpack("!HH", l4[:4])
        if proto == 6 and len(l4) >= 14:
            seen["flags"] = l4[13]
    elif proto == 58 and len(l4) >= 8:
        seen["icmpType"], seen["icmpCode"] = l4[0], l4[1]
        inner = l4[8:]
        if seen["icmpType"] == 1 and len(inner) >= 40:
            seen["innerId"] = struct.unpack("!I", inner[0:4])[0] & 0xFFFFF
            seen["innerSrc"] = socket.inet_ntop(socket.AF_INET6, inner[8:24])
    return seen


def parse(data):
    if len(data) >= 1 and data[0] >> 4 == 6:
        return parse6(data)
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
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
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
    # IPPROTO_RAW on an IPv6 socket means the header is ours too (Linux raw(7)).
    sender6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    print(json.dumps({"ready": IFACE}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "start":
            capture.start()
            print(json.dumps({"ok": True}), flush=True)
        elif command["op"] == "send":
            for packet in command["packets"]:
                try:
                    if ":" in packet["dst"]:
                        sender6.sendto(build(packet), (packet["dst"], 0))
                    else:
                        sender.sendto(build(packet), (packet["dst"], 0))
                except OSError:
                    # In the router, a packet its output hook drops fails here (EPERM): the verdict is seen as block.
                    pass
            print(json.dumps({"sent": len(command["packets"])}), flush=True)
        elif command["op"] == "stop":
            print(json.dumps({"seen": capture.stop()}), flush=True)


main()
