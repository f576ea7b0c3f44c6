set terminal pngcairo size 900,520 font 'sans,10'
set output 'bench/results/plots/live_frames_rate.png'
set title 'xdp_uplink fed by live-frames test runs (XDP ceiling)'
set xlabel 'N (published ports and mark rules)'
set ylabel 'Mpps'
set logscale x
set xrange [0.5:20000]
set yrange [0:*]
set key outside right
set grid
plot 'bench/results/plots/live_frames_rate.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 title 'F-xdp'
