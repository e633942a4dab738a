# The scaling curves of `make bench` (scripts/bench.sh conc): ioctls/s and
# fault-in MB/s against clients, fakedrm beside the floor daemon, threads and
# processes. gnuplot -e "data='FILE'; out='PNG'; title='...'" bench/scaling.gp
# DATA lines: work mode clients fakedrm floor (written by conc_bench).
if (!exists("title")) title = "FakeDRM vs the floor daemon"
set terminal pngcairo size 1200,520 font "sans,10" noenhanced
set output out
set multiplot layout 1,2 title title
set logscale x 2
set xrange [0.8:80]
set xtics (1, 2, 4, 8, 16, 32, 64)
set xlabel "clients"
set key bottom right
set grid
sel(w, m, col) = (strcol(1) eq w && strcol(2) eq m) ? column(col) : 1/0
set title "ioctl throughput (GEM_CREATE + MMAP_OFFSET + GEM_CLOSE)"
set ylabel "ioctls/s"
set yrange [0:*]
plot data using 3:(sel("ioctl", "threads", 4)) with linespoints lw 2 lc rgb "#1f77b4" pt 7 title "fakedrm, threads", \
     data using 3:(sel("ioctl", "processes", 4)) with linespoints lw 2 lc rgb "#1f77b4" pt 5 dt 2 title "fakedrm, processes", \
     data using 3:(sel("ioctl", "threads", 5)) with linespoints lw 2 lc rgb "#7f7f7f" pt 7 title "floor, threads", \
     data using 3:(sel("ioctl", "processes", 5)) with linespoints lw 2 lc rgb "#7f7f7f" pt 5 dt 2 title "floor, processes"
set title "GTT fault-in throughput (8 MiB mappings read page by page)"
set ylabel "MB/s"
plot data using 3:(sel("fault", "threads", 4)) with linespoints lw 2 lc rgb "#d62728" pt 7 title "fakedrm, threads", \
     data using 3:(sel("fault", "processes", 4)) with linespoints lw 2 lc rgb "#d62728" pt 5 dt 2 title "fakedrm, processes", \
     data using 3:(sel("fault", "threads", 5)) with linespoints lw 2 lc rgb "#7f7f7f" pt 7 title "floor, threads", \
     data using 3:(sel("fault", "processes", 5)) with linespoints lw 2 lc rgb "#7f7f7f" pt 5 dt 2 title "floor, processes"
unset multiplot
