//! Source addresses for the helper's raw idle connections
//! (`--conn-sources`): each connection binds one of a range of loopback
//! addresses, round robin, before it connects. Towards one server address
//! the kernel has one ephemeral port range (`net.ipv4.ip_local_port_range`,
//! about 28,000 ports) per source address, so N addresses hold about N ×
//! 28,000 connections from one machine.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::str::FromStr;

/// A range of loopback IPv4 addresses, first to last inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    first: Ipv4Addr,
    last: Ipv4Addr,
}

impl Sources {
    /// How many addresses the range holds.
    pub fn len(&self) -> u64 {
        u64::from(u32::from(self.last)) - u64::from(u32::from(self.first)) + 1
    }

    /// The address of the `i`-th connection: round robin over the range.
    pub fn nth(&self, i: usize) -> Ipv4Addr {
        let off = (i as u64 % self.len()) as u32;
        Ipv4Addr::from(u32::from(self.first) + off)
    }
}

impl fmt::Display for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl FromStr for Sources {
    type Err = String;

    /// `127.0.0.2` (one address) or `127.0.0.1-127.0.0.8` (a range).
    fn from_str(s: &str) -> Result<Sources, String> {
        let (a, b) = s.split_once('-').unwrap_or((s, s));
        let ip = |t: &str| -> Result<Ipv4Addr, String> {
            let t = t.trim();
            let ip: Ipv4Addr = t.parse().map_err(|_| {
                format!("'{t}' is not an IPv4 address (expected 127.0.0.2 or 127.0.0.1-127.0.0.8)")
            })?;
            if ip.is_loopback() {
                Ok(ip)
            } else {
                Err(format!(
                    "{ip} is not a loopback address (127.0.0.0/8): the connections scenario's \
                     server listens on 127.0.0.1"
                ))
            }
        };
        let (first, last) = (ip(a)?, ip(b)?);
        if first > last {
            return Err(format!("{first}-{last} is empty: its first address comes after its last"));
        }
        Ok(Sources { first, last })
    }
}

/// A blocking TCP connection to `to` from the address `from` (any port):
/// bind() before connect(), with IP_BIND_ADDRESS_NO_PORT so that the port
/// is picked at connect() for the whole address pair rather than reserved
/// at bind() for the source address alone.
pub fn connect_from(from: Ipv4Addr, to: SocketAddr) -> io::Result<TcpStream> {
    let SocketAddr::V4(to) = to else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{to} is not an IPv4 address; source addresses are"),
        ));
    };
    // SAFETY: socket(2) has no memory arguments; the descriptor it returns
    // is owned by `sock` at once.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    // Best effort: without it (Linux < 4.2) bind() reserves the port.
    // SAFETY: a c_int option value of the size given, alive for the call.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    let call = |what: &str, rc: libc::c_int| {
        if rc == 0 {
            Ok(())
        } else {
            let e = io::Error::last_os_error();
            Err(io::Error::new(e.kind(), format!("{what}: {e}")))
        }
    };
    let local = sockaddr(SocketAddrV4::new(from, 0));
    // SAFETY: a sockaddr_in of the size given, alive for the call.
    let rc = unsafe {
        libc::bind(sock.as_raw_fd(), (&local as *const libc::sockaddr_in).cast(), SOCKADDR_LEN)
    };
    call(&format!("cannot bind {from}"), rc)?;
    let remote = sockaddr(to);
    // SAFETY: as for bind.
    let rc = unsafe {
        libc::connect(sock.as_raw_fd(), (&remote as *const libc::sockaddr_in).cast(), SOCKADDR_LEN)
    };
    call(&format!("cannot connect from {from}"), rc)?;
    Ok(TcpStream::from(sock))
}

const SOCKADDR_LEN: libc::socklen_t = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain data; all zeroes is a valid value.
    let mut s: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s.sin_port = a.port().to_be();
    s.sin_addr = libc::in_addr { s_addr: u32::from(*a.ip()).to_be() };
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_one_address_or_a_range_and_refuses_the_rest() {
        let r: Sources = "127.0.0.1-127.0.0.8".parse().unwrap();
        assert_eq!((r.len(), r.to_string()), (8, "127.0.0.1-127.0.0.8".to_string()));
        assert_eq!(
            (r.nth(0), r.nth(7), r.nth(8)),
            ([127, 0, 0, 1].into(), [127, 0, 0, 8].into(), [127, 0, 0, 1].into())
        );
        let one: Sources = "127.0.0.2".parse().unwrap();
        assert_eq!(
            (one.len(), one.to_string(), one.nth(5)),
            (1, "127.0.0.2".into(), [127, 0, 0, 2].into())
        );
        let wide: Sources = "127.0.0.255-127.0.1.1".parse().unwrap();
        assert_eq!((wide.len(), wide.nth(1)), (3, [127, 0, 1, 0].into()));
        for (bad, says) in [
            ("127.0.0.8-127.0.0.1", "first address comes after its last"),
            ("10.0.0.1", "not a loopback address"),
            ("127.0.0.1-10.0.0.1", "not a loopback address"),
            ("::1", "not an IPv4 address"),
            ("127.0.0.1-", "not an IPv4 address"),
            ("eight", "not an IPv4 address"),
        ] {
            let err = bad.parse::<Sources>().unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn connects_from_the_source_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let to = listener.local_addr().unwrap();
        for last in [2u8, 3] {
            let s = connect_from(Ipv4Addr::new(127, 0, 0, last), to).unwrap();
            let (_, peer) = listener.accept().unwrap();
            assert_eq!(peer.ip(), std::net::IpAddr::from([127, 0, 0, last]));
            assert_eq!(s.local_addr().unwrap(), peer);
        }
        let v6 = SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], 9));
        assert!(connect_from(Ipv4Addr::LOCALHOST, v6).is_err());
    }
}
