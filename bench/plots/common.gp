# common.gp: terminal, fonts and line styles shared by every bench plot (loaded by the others).
# Set by bench/report.py: datadir, out, fmt ('png' or 'svg'), machine, nginx.
if (fmt eq 'svg') {
    set terminal svg size 1200,520 dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 1200,520 enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set grid xtics ytics lc rgb '#dddddd' lt 1
set border 3
set tics nomirror
set key top left box opaque samplen 2 spacing 1.1
set datafile missing 'NaN'
# ours: solid lines and filled points; the reference: dashed lines and open points
set style line 1 lc rgb '#1f77b4' lw 2 pt 7 ps 1.1
set style line 2 lc rgb '#ff7f0e' lw 2 pt 7 ps 1.1
set style line 3 lc rgb '#2ca02c' lw 2 pt 7 ps 1.1
set style line 4 lc rgb '#d62728' lw 2 pt 7 ps 1.1
set style line 11 lc rgb '#1f77b4' lw 2 pt 6 ps 1.1 dt 2
set style line 12 lc rgb '#ff7f0e' lw 2 pt 6 ps 1.1 dt 2
set style line 13 lc rgb '#2ca02c' lw 2 pt 6 ps 1.1 dt 2
set style line 14 lc rgb '#d62728' lw 2 pt 6 ps 1.1 dt 2
