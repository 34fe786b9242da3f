# rps-vs-workers.gp: req/s against worker count, ours and nginx, keep-alive (1/100/1000 conns) and close.
# workers.dat: workers, then (median, min, max) in thousands of req/s for: ours-ka-c1, ours-ka-c100,
# ours-ka-c1000, nginx-ka-c1, nginx-ka-c100, nginx-ka-c1000, ours-close, nginx-close.
load gpdir.'/common.gp'
d = datadir.'/workers.dat'
c(i) = 2 + 3*i
set multiplot layout 1,2 title sprintf("{/:Bold Requests per second vs workers} (/plaintext, unpinned, wrk -t1; bars: min-max of the runs)\n{/*0.85 %s}", machine)
set logscale x 2
set xrange [0.8:10]
set xtics (1, 2, 4, 8)
set xlabel 'server workers (threads; nginx: worker processes)'
set ylabel 'thousand requests / s'
set yrange [0:*]
set title 'keep-alive'
set key top left horizontal maxrows 3 width -2 samplen 1.5 font ',10'
set yrange [0:*]
set offsets 0, 0, graph 0.30, 0
plot d u 1:(column(c(0))):(column(c(0)+1)):(column(c(0)+2)) w yerrorlines ls 1 t 'async-nostd, 1 conn', \
     d u 1:(column(c(1))):(column(c(1)+1)):(column(c(1)+2)) w yerrorlines ls 2 t 'async-nostd, 100 conns', \
     d u 1:(column(c(2))):(column(c(2)+1)):(column(c(2)+2)) w yerrorlines ls 3 t 'async-nostd, 1000 conns', \
     d u 1:(column(c(3))):(column(c(3)+1)):(column(c(3)+2)) w yerrorlines ls 11 t nginx.', 1 conn', \
     d u 1:(column(c(4))):(column(c(4)+1)):(column(c(4)+2)) w yerrorlines ls 12 t nginx.', 100 conns', \
     d u 1:(column(c(5))):(column(c(5)+1)):(column(c(5)+2)) w yerrorlines ls 13 t nginx.', 1000 conns'
set title 'Connection: close (new TCP connection per request)'
set offsets 0, 0, graph 0.15, 0
plot d u 1:(column(c(6))):(column(c(6)+1)):(column(c(6)+2)) w yerrorlines ls 4 t 'async-nostd', \
     d u 1:(column(c(7))):(column(c(7)+1)):(column(c(7)+2)) w yerrorlines ls 14 t nginx
unset multiplot
