#include "stuck.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "families.hpp"

namespace xph::harness::supervise {
namespace {

constexpr unsigned long kFutexCmdMask = 0x7f;  // op without FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME
constexpr unsigned long kFutexWait = 0, kFutexWaitBitset = 9, kFutexPrivate = 128;

// A shared mapping of a file (its device and inode, as /proc/PID/maps
// gives them: "00:1b 403586").
using MappedFile = std::pair<std::string, unsigned long>;

// One line of /proc/PID/maps: "7f38...-7f38... rw-s 00000000 00:1b 403586 /dev/shm/sem.x".
struct Mapping {
  unsigned long start = 0, end = 0;
  std::optional<MappedFile> shared_file;  // when shared ('s') and of a file
};
std::optional<Mapping> mapping_of(const std::string& line) {
  std::istringstream words(line);
  std::string range, perms, offset, dev;
  unsigned long inode = 0;
  if (!(words >> range >> perms >> offset >> dev >> inode)) return std::nullopt;
  Mapping m;
  char* rest = nullptr;
  m.start = std::strtoul(range.c_str(), &rest, 16);
  if (*rest != '-') return std::nullopt;
  m.end = std::strtoul(rest + 1, nullptr, 16);
  if (perms.size() >= 4 && perms[3] == 's' && inode) m.shared_file = MappedFile{dev, inode};
  return m;
}

// The file of PID's shared mapping that holds ADDR, if it is one.
std::optional<MappedFile> shared_file_at(pid_t pid, unsigned long addr) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  for (std::string line; std::getline(in, line);)
    if (const auto m = mapping_of(line); m && addr >= m->start && addr < m->end) return m->shared_file;
  return std::nullopt;
}

// What one look knows of the group beyond its threads: its members, the
// folder only its case uses, and (found when first needed) the socket
// inodes its members hold.
struct Group {
  const std::vector<pid_t>& members;
  const std::filesystem::path& dir;
  std::optional<std::set<unsigned long>> sockets;

  // Files some process outside the group maps shared (found when first
  // needed): a lock in one can be released from outside.
  std::optional<std::set<MappedFile>> shared_outside;
  const std::set<MappedFile>& files_shared_outside() {
    if (!shared_outside) {
      shared_outside.emplace();
      std::error_code ec;
      for (auto it = std::filesystem::directory_iterator("/proc", ec);
           !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.empty() || name[0] < '0' || name[0] > '9') continue;
        const pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
        if (pid == ::getpid() || std::find(members.begin(), members.end(), pid) != members.end()) continue;
        std::ifstream in(it->path() / "maps");
        for (std::string line; std::getline(in, line);)
          if (const auto m = mapping_of(line); m && m->shared_file) shared_outside->insert(*m->shared_file);
      }
    }
    return *shared_outside;
  }

  const std::set<unsigned long>& socket_inodes() {
    if (!sockets) {
      sockets.emplace();
      for (pid_t pid : members) {
        std::error_code ec;
        for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
             !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
          if (std::error_code gone; const auto inode = socket_inode(std::filesystem::read_symlink(it->path(), gone).string())) {
            sockets->insert(*inode);
          }
      }
    }
    return *sockets;
  }
  static std::optional<unsigned long> socket_inode(const std::string& link) {
    if (link.rfind("socket:[", 0) != 0) return std::nullopt;
    return std::strtoul(link.c_str() + 8, nullptr, 10);
  }
};

// A Unix socket as the kernel's sock_diag tells it: listening, its path, its
// peer's inode. None for a socket of another family, or without sock_diag.
struct UnixSocket {
  bool listening = false;
  std::string path;
  unsigned peer = 0;
};
std::optional<UnixSocket> unix_socket(unsigned long inode) {
  const int nl = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return std::nullopt;
  struct {
    nlmsghdr header;
    unix_diag_req request;
  } ask{};
  ask.header.nlmsg_len = sizeof ask;
  ask.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  ask.header.nlmsg_flags = NLM_F_REQUEST;
  ask.request.sdiag_family = AF_UNIX;
  ask.request.udiag_states = ~0u;
  ask.request.udiag_ino = static_cast<unsigned>(inode);
  ask.request.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER;
  ask.request.udiag_cookie[0] = ask.request.udiag_cookie[1] = ~0u;  // any: the exact inode is asked for
  alignas(nlmsghdr) char buffer[8192];
  ssize_t n = -1;
  if (::send(nl, &ask, sizeof ask, 0) == static_cast<ssize_t>(sizeof ask)) n = ::recv(nl, buffer, sizeof buffer, 0);
  ::close(nl);
  const auto* h = reinterpret_cast<const nlmsghdr*>(buffer);
  if (n <= 0 || !NLMSG_OK(h, static_cast<unsigned>(n)) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY) return std::nullopt;
  const auto* msg = static_cast<const unix_diag_msg*>(NLMSG_DATA(h));
  if (msg->udiag_ino != inode) return std::nullopt;
  UnixSocket out;
  out.listening = msg->udiag_state == 10;  // TCP_LISTEN
  auto len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *msg));
  for (auto* a = reinterpret_cast<const rtattr*>(msg + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == UNIX_DIAG_NAME) out.path.assign(static_cast<const char*>(RTA_DATA(a)), RTA_PAYLOAD(a));
    if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(unsigned)) {
      std::memcpy(&out.peer, RTA_DATA(a), sizeof out.peer);
    }
  }
  return out;
}

bool inside(const std::string& path, const std::filesystem::path& dir) {
  const std::string d = dir.string();
  return !d.empty() && path.size() > d.size() && path.compare(0, d.size(), d) == 0 && path[d.size()] == '/';
}

// Only these can be the end of a wait with nothing outside to end it: a pipe
// (written by one of the group, all asleep too), an eventfd, a Unix socket
// whose peer the group holds, or one listening at a path in the case's own
// folder (a forkserver's). Any other socket has a peer outside that may
// answer, or may be connected to; a timerfd or signalfd fires by itself.
enum class Source { Outside, Pipe, Socket };
Source who_writes(pid_t pid, long fd, Group& group) {
  std::error_code ec;
  const std::string t =
      std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd), ec).string();
  if (ec) return Source::Outside;
  if (t.rfind("pipe:", 0) == 0 || t == "anon_inode:[eventfd]") return Source::Pipe;
  const auto inode = Group::socket_inode(t);
  const auto socket = inode ? unix_socket(*inode) : std::nullopt;
  if (!socket) return Source::Outside;
  const bool ours = socket->listening ? inside(socket->path, group.dir)
                                      : socket->peer != 0 && group.socket_inodes().count(socket->peer) > 0;
  return ours ? Source::Socket : Source::Outside;
}

// The fds of a poll(2) or ppoll(2) that is waiting: its pollfd array, read
// from the process's memory (xph is its ancestor, so may read it).
std::optional<std::vector<long>> polled_fds(pid_t pid, unsigned long addr, unsigned long count) {
  if (count > 4096) return std::nullopt;
  struct PollFd {
    int fd;
    short events, revents;
  };
  std::vector<PollFd> fds(count);
  const int mem = ::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (mem < 0) return std::nullopt;
  const auto bytes = static_cast<ssize_t>(count * sizeof(PollFd));
  const bool read_all = ::pread(mem, fds.data(), static_cast<std::size_t>(bytes), static_cast<off_t>(addr)) == bytes;
  ::close(mem);
  if (!read_all) return std::nullopt;
  std::vector<long> out;
  for (const PollFd& p : fds)
    if (p.fd >= 0) out.push_back(p.fd);
  return out;
}

// The fds an epoll instance watches ("tfd:" lines of its fdinfo).
std::optional<std::vector<long>> epoll_fds(pid_t pid, unsigned long epfd) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(epfd));
  if (!in) return std::nullopt;
  std::vector<long> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key;
    long fd = -1;
    if (words >> key && key == "tfd:" && words >> fd) out.push_back(fd);
  }
  return out;
}

// "pipe", "socket" (any of them a socket of the group's), or "" when any
// could be written from outside.
std::string who_writes_all(pid_t pid, const std::optional<std::vector<long>>& fds, Group& group) {
  if (!fds) return "";
  std::string out = "pipe";
  for (long fd : *fds) {
    const Source s = who_writes(pid, fd, group);
    if (s == Source::Outside) return "";
    if (s == Source::Socket) out = "socket";
  }
  return out;
}

// "child" when the process waits for children that are all in the group
// (a wrapper, `sh -c`, waiting for the SUT it started): any thread of it
// may reap any of them, so all its threads' children count.
std::string who_ends_children(pid_t pid, const Group& group) {
  const auto children = children_of(pid);
  const auto ours = [&](pid_t child) {
    return std::find(group.members.begin(), group.members.end(), child) != group.members.end();
  };
  return !children.empty() && std::all_of(children.begin(), children.end(), ours) ? "child" : "";
}

bool infinite(unsigned long timeout_ms) { return static_cast<int>(timeout_ms & 0xffffffffUL) < 0; }

// "lock", "pipe", "socket" or "child" when the thread waits with no timeout on what
// only the group can end; "" otherwise (running, asleep on the clock, on
// anything outside may write, with a timeout, or in a call not known here).
std::string endless_wait(pid_t pid, const std::string& task, Group& group) {
  const auto call = syscall_of(task);
  if (!call) return "";
  const auto& a = call->a;
  switch (call->nr) {
    case SYS_futex: {
      const unsigned long cmd = a[1] & kFutexCmdMask;
      if (!((cmd == kFutexWait || cmd == kFutexWaitBitset) && a[3] == 0)) return "";
      // A lock shared between processes (no FUTEX_PRIVATE_FLAG: a POSIX
      // semaphore, multiprocessing's locks) in a file that a process outside
      // the group maps too can be released from outside: a warm SUT's
      // semaphore made at import, held by another case of the same zygote.
      if (!(a[1] & kFutexPrivate)) {
        const auto file = shared_file_at(pid, a[0]);
        if (file && group.files_shared_outside().count(*file)) return "";
      }
      return "lock";
    }
    case SYS_read:
    case SYS_readv:
      return who_writes_all(pid, std::vector<long>{static_cast<long>(a[0])}, group);
#ifdef SYS_poll  // not on arm64, which has only ppoll and epoll_pwait
    case SYS_poll:
      return infinite(a[2]) ? who_writes_all(pid, polled_fds(pid, a[0], a[1]), group) : "";
#endif
    case SYS_ppoll:
      return a[2] == 0 ? who_writes_all(pid, polled_fds(pid, a[0], a[1]), group) : "";
#ifdef SYS_epoll_wait
    case SYS_epoll_wait:
#endif
    case SYS_epoll_pwait:
      return infinite(a[3]) ? who_writes_all(pid, epoll_fds(pid, a[0]), group) : "";
    case SYS_wait4:
    case SYS_waitid:
      return who_ends_children(pid, group);
    default:
      return "";
  }
}

// The ELF class and machine of a process's program (bytes 4 and 18-19 of
// its header), "" when unreadable.
std::string abi(const std::string& exe) {
  char header[20] = {};
  std::ifstream in(exe, std::ios::binary);
  if (!in.read(header, sizeof header)) return "";
  return std::string{header[4], header[18], header[19]};
}

// /proc/PID/syscall gives a process's numbers in its own ABI: a 32-bit
// process's on x86-64 are i386's, where 0 is restart_syscall (so a sleep
// stopped and continued shows x86-64's read). Only a process of xph's own
// ABI is read; any other is never stuck.
bool native(pid_t pid) {
  static const std::string mine = abi("/proc/self/exe");
  return !mine.empty() && abi("/proc/" + std::to_string(pid) + "/exe") == mine;
}

std::optional<unsigned long long> ran_ns(const std::string& task) {
  std::ifstream in(task + "/schedstat");
  unsigned long long ns = 0;
  if (!(in >> ns)) return std::nullopt;
  return ns;
}

}  // namespace

void StuckWatch::forget() {
  last_.clear();
  matches_ = 0;
}

bool StuckWatch::look(bool spinners) {
  std::map<pid_t, Thread> now;
  std::map<std::string, int> waits;  // "lock", "pipe", "socket", "child"
  int spinning = 0;
  const auto members = group_members(pgid_);
  Group group{members, dir_, std::nullopt};
  bool stuck = !members.empty();
  for (std::size_t i = 0; stuck && i < members.size(); ++i) {
    const pid_t pid = members[i];
    if (!native(pid)) {
      stuck = false;
      break;
    }
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    std::error_code ec;
    bool any = false, spinner = false;
    for (auto it = std::filesystem::directory_iterator(tasks, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
      any = true;
      const std::string task = it->path().string();
      const pid_t tid = static_cast<pid_t>(std::stol(it->path().filename().string()));
      const auto ns = ran_ns(task);  // first: if it runs after this, the next look sees it
      auto f = stat_fields(task + "/stat");
      std::string state;
      const std::string wait = f && (*f >> state) && state == "S" ? endless_wait(pid, task, group) : "";
      if (!ns) {
        stuck = false;
        break;
      }
      // A thread that waits for ever now but ran since the last look is no
      // sleeper: it spins, or something woke it.
      const auto before = last_.find(tid);
      const bool ran = before != last_.end() && !before->second.spinning && before->second.ran_ns != *ns;
      if (!wait.empty() && !ran) {
        now[tid] = {*ns, false};
        ++waits[wait];
        continue;
      }
      // A spinner runs (or ran, and is back in its endless poll); one asleep
      // on the clock or with a timeout wakes by itself, so it is no spinner.
      // Nor is a process's main thread: a broken pool spins in a thread of
      // its parent, and a main thread that runs is a process at work (the
      // next probe's fresh workers importing their SDK).
      const bool runs = state == "R" || (!wait.empty() && ran);
      if (!spinners || !runs || spinner || tid == pid) {
        stuck = false;
        break;
      }
      spinner = true;
      now[tid] = {*ns, true};
      ++spinning;
    }
    stuck = stuck && any && !ec;
  }
  if (!stuck) {
    forget();
    return false;
  }
  matches_ = now == last_ ? matches_ + 1 : 0;
  last_ = std::move(now);
  std::ostringstream what;
  what << last_.size() << " thread(s) of " << members.size() << " process(es): " << waits["lock"] << " on a lock, "
       << waits["pipe"] << " on a pipe";
  if (waits["socket"]) what << ", " << waits["socket"] << " on a socket of its own";
  if (waits["child"]) what << ", " << waits["child"] << " on a child";
  if (spinning) what << ", " << spinning << " spinning";
  what_ = what.str();
  return matches_ >= (spinning ? 2 : 1);
}

}  // namespace xph::harness::supervise
