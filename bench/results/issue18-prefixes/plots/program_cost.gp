set terminal pngcairo size 900,520 font 'sans,10'
set output 'bench/results/issue18-prefixes/plots/program_cost.png'
set title 'program cost per packet (BPF_PROG_TEST_RUN, no-op subtracted)'
set xlabel 'N (published ports and mark rules)'
set ylabel 'ns'
set logscale x
set xrange [0.5:200000]
set yrange [0:*]
set key outside right
set grid
plot 'bench/results/issue18-prefixes/plots/program_cost.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 title 'xdp_uplink forward, no DNAT or marks', 'bench/results/issue18-prefixes/plots/program_cost.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 title 'from_container forward, no DNAT or marks', 'bench/results/issue18-prefixes/plots/program_cost.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 title 'xdp_uplink forward', 'bench/results/issue18-prefixes/plots/program_cost.dat' index 3 using 1:2:3:4 with yerrorlines lw 2 title 'xdp_uplink dnat (established)', 'bench/results/issue18-prefixes/plots/program_cost.dat' index 4 using 1:2:3:4 with yerrorlines lw 2 title 'xdp_uplink miss', 'bench/results/issue18-prefixes/plots/program_cost.dat' index 5 using 1:2:3:4 with yerrorlines lw 2 title 'from_container forward', 'bench/results/issue18-prefixes/plots/program_cost.dat' index 6 using 1:2:3:4 with yerrorlines lw 2 title 'from_container dnat reply + mark', 'bench/results/issue18-prefixes/plots/program_cost.dat' index 7 using 1:2:3:4 with yerrorlines lw 2 title 'from_container masq (established)', 'bench/results/issue18-prefixes/plots/program_cost.dat' index 8 using 1:2:3:4 with yerrorlines lw 2 title 'from_container miss'
