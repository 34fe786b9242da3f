# rps-vs-workers.gp: req/s against worker count: ours with each executor beside nginx, one panel per
# keep-alive connection count and one for Connection: close.
# workers.dat: workers, then for each panel and each server (ours shared, ours per-core, ours per-core
# reuseport, nginx): (median, min, max) in thousands of req/s.
# workers-info.gp sets pinning (how the runs were pinned), npanels and panel_title[1..npanels].
load gpdir.'/common.gp'
load datadir.'/workers-info.gp'
d = datadir.'/workers.dat'
c(panel, server) = 2 + 3*(4*panel + server)
set multiplot layout 1,npanels title sprintf("{/:Bold Requests per second vs workers} (/plaintext, %s; bars: min-max of the runs)\n{/*0.85 %s}", pinning, machine)
set logscale x 2
set xrange [0.8:10]
set xtics (1, 2, 4, 8)
set xlabel 'server workers (threads; nginx: worker processes)'
set ylabel 'thousand requests / s'
set yrange [0:*]
set key top left maxrows 4 samplen 1.5 font ',9'
set offsets 0, 0, graph 0.35, 0
do for [p = 0:npanels - 1] {
    set title panel_title[p + 1]
    plot d u 1:(column(c(p, 0))):(column(c(p, 0)+1)):(column(c(p, 0)+2)) w yerrorlines ls 1 t 'async-nostd, shared', \
         d u 1:(column(c(p, 1))):(column(c(p, 1)+1)):(column(c(p, 1)+2)) w yerrorlines ls 2 t 'async-nostd, per-core', \
         d u 1:(column(c(p, 2))):(column(c(p, 2)+1)):(column(c(p, 2)+2)) w yerrorlines ls 3 t 'async-nostd, per-core reuseport', \
         d u 1:(column(c(p, 3))):(column(c(p, 3)+1)):(column(c(p, 3)+2)) w yerrorlines ls 14 t nginx
}
unset multiplot
