package io.mucheckpoint.checkpoint.chart;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Line and bar charts as PNG files, drawn with Java2D so that nothing outside the JDK is needed.
 * The benchmark report and the {@code vmm} command ({@code --stats-plot}, {@code --plot}) both draw
 * with it, which is why it lives in a module both depend on. An axis may be logarithmic; series are
 * drawn in a fixed palette with a legend; bars may carry an interval (an error bar); several charts
 * can be stacked into one picture as panels.
 */
public final class Chart {
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
        new Color(0xff7f0e), new Color(0x8c564b), new Color(0x17becf), new Color(0x7f7f7f)
    };
    /** The size of one chart (one panel of a stacked picture). */
    public static final int W = 880, H = 520;
    private static final int LEFT = 80, RIGHT = 190, TOP = 50, BOTTOM = 70;
    /** More distinct x values than this get evenly spaced ticks instead of one tick per value. */
    private static final int MAX_VALUE_TICKS = 15;

    /** Something that draws itself into a {@link #W} by {@link #H} area at the origin. */
    @FunctionalInterface
    public interface Panel {
        void draw(Graphics2D g);
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private boolean logX;
    private boolean logY;
    private boolean markers = true;
    private boolean roundTicks;
    private String note;
    /** Per series, its points: {x, y} or, for a bar with an interval, {x, y, low, high}. */
    private final Map<String, List<double[]>> series = new LinkedHashMap<>();
    /** Horizontal reference lines (a target) drawn dashed across a bar chart: label and y. */
    private final Map<String, Double> hlines = new LinkedHashMap<>();

    public Chart(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /** A dashed horizontal line at {@code y} across a bar chart, named in the legend. */
    public Chart hline(String name, double y) {
        hlines.put(name, y);
        return this;
    }

    public Chart logX() {
        logX = true;
        return this;
    }

    public Chart logY() {
        logY = true;
        return this;
    }

    /** Lines without a dot at each point (for long series such as a timeline). */
    public Chart noMarkers() {
        markers = false;
        return this;
    }

    /** Y ticks at round numbers (1, 2 or 5 times a power of ten apart) rather than at fifths of the range. */
    public Chart roundTicks() {
        roundTicks = true;
        return this;
    }

    /** A line of small grey text under the title (what the chart shows, or what is missing from it). */
    public Chart note(String text) {
        note = text;
        return this;
    }

    public Chart point(String name, double x, double y) {
        series.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[] {x, y});
        return this;
    }

    /** A bar in category {@code category} (an index) with the interval [{@code low}, {@code high}] drawn over it. */
    public Chart bar(String name, int category, double value, double low, double high) {
        series.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[] {category, value, low, high});
        return this;
    }

    public boolean isEmpty() {
        return series.isEmpty();
    }

    /** A line chart of every series. */
    public void writeLines(Path file) throws IOException {
        write(file, lines());
    }

    /** Grouped bars: one group per x category (the x values are indexes into {@code categories}). */
    public void writeBars(Path file, List<String> categories) throws IOException {
        write(file, bars(categories));
    }

    /** This chart as a line chart panel. */
    public Panel lines() {
        return this::drawLines;
    }

    /** This chart as a grouped bar chart panel. */
    public Panel bars(List<String> categories) {
        return g -> drawBars(g, categories);
    }

    /** Writes the panels one below the other into one PNG file. */
    public static void write(Path file, Panel... panels) throws IOException {
        BufferedImage img = new BufferedImage(W, H * panels.length, BufferedImage.TYPE_INT_RGB);
        Graphics2D bg = img.createGraphics();
        bg.setColor(Color.WHITE);
        bg.fillRect(0, 0, img.getWidth(), img.getHeight());
        bg.dispose();
        for (int i = 0; i < panels.length; i++) {
            Graphics2D g = img.createGraphics();
            g.translate(0, i * H);
            g.clipRect(0, 0, W, H);
            panels[i].draw(g);
            g.dispose();
        }
        if (!ImageIO.write(img, "png", file.toFile())) throw new IOException("no PNG writer in this JDK");
    }

    private void drawLines(Graphics2D g) {
        setup(g);
        double[] xr = range(0), yr = range(1);
        axes(g, xr, yr);
        int c = 0;
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            List<double[]> pts = new ArrayList<>(e.getValue());
            pts.sort((a, b) -> Double.compare(a[0], b[0]));
            g.setColor(PALETTE[c % PALETTE.length]);
            g.setStroke(new BasicStroke(markers ? 2.2f : 1.4f));
            int px = -1, py = -1;
            for (double[] p : pts) {
                int x = sx(p[0], xr), y = sy(p[1], yr);
                if (px >= 0) g.drawLine(px, py, x, y);
                if (markers) g.fillOval(x - 4, y - 4, 8, 8);
                px = x;
                py = y;
            }
            legend(g, c, e.getKey());
            c++;
        }
    }

    private void drawBars(Graphics2D g, List<String> categories) {
        setup(g);
        double[] yr = range(1);
        yr[0] = Math.min(0, yr[0]);
        for (double h : hlines.values()) yr[1] = Math.max(yr[1], h * 1.1);
        double[] xr = {-0.5, categories.size() - 0.5};
        axesY(g, yr);
        int groups = categories.size();
        int n = series.size();
        double groupWidth = (W - LEFT - RIGHT) / (double) groups;
        double barWidth = groupWidth * 0.8 / Math.max(1, n);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int k = 0; k < groups; k++) {
            g.setColor(Color.DARK_GRAY);
            int cx = sx(k, xr);
            String label = categories.get(k);
            g.drawString(label, cx - g.getFontMetrics().stringWidth(label) / 2, H - BOTTOM + 18);
        }
        int c = 0;
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            Color colour = PALETTE[c % PALETTE.length];
            for (double[] p : e.getValue()) {
                double x0 = sx(p[0], xr) - groupWidth * 0.4 + c * barWidth;
                int y = sy(p[1], yr), y0 = sy(0, yr);
                int width = (int) Math.max(1, barWidth - 2);
                g.setColor(colour);
                g.fillRect((int) x0, Math.min(y, y0), width, Math.abs(y0 - y));
                if (p.length == 4) errorBar(g, (int) x0 + width / 2, sy(p[2], yr), sy(p[3], yr), Math.max(2, width / 4));
            }
            g.setColor(colour);
            legend(g, c, e.getKey());
            c++;
        }
        for (Map.Entry<String, Double> h : hlines.entrySet()) {
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            int y = sy(h.getValue(), yr);
            g.drawLine(LEFT, y, W - RIGHT, y);
            g.setStroke(new BasicStroke(1f));
            int ly = TOP + 10 + c * 20;
            g.drawLine(W - RIGHT + 20, ly - 4, W - RIGHT + 34, ly - 4);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString(h.getKey(), W - RIGHT + 40, ly);
            c++;
        }
        g.setColor(Color.DARK_GRAY);
        g.drawString(xLabel, LEFT + (W - LEFT - RIGHT) / 2 - g.getFontMetrics().stringWidth(xLabel) / 2, H - 20);
    }

    private static void errorBar(Graphics2D g, int x, int yLow, int yHigh, int cap) {
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1.2f));
        g.drawLine(x, yLow, x, yHigh);
        g.drawLine(x - cap, yLow, x + cap, yLow);
        g.drawLine(x - cap, yHigh, x + cap, yHigh);
    }

    private void setup(Graphics2D g) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, LEFT, 30);
        if (note != null) {
            g.setColor(Color.GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString(note, LEFT, 45);
        }
    }

    private double[] range(int axis) {
        double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
        for (List<double[]> pts : series.values()) {
            for (double[] p : pts) {
                lo = Math.min(lo, p[axis]);
                hi = Math.max(hi, p[axis]);
                if (axis == 1 && p.length == 4) hi = Math.max(hi, p[3]);
            }
        }
        if (lo == Double.MAX_VALUE) return new double[] {0, 1};
        boolean log = axis == 0 ? logX : logY;
        if (log) return new double[] {Math.log10(Math.max(lo, 1e-9)) - 0.05, Math.log10(Math.max(hi, 1e-9)) + 0.05};
        if (axis == 1) lo = Math.min(lo, 0);
        if (hi == lo) hi = lo + 1;
        double pad = (hi - lo) * 0.08;
        return new double[] {axis == 1 && lo == 0 ? 0 : lo - pad, hi + pad};
    }

    private int sx(double x, double[] r) {
        double v = logX ? Math.log10(Math.max(x, 1e-9)) : x;
        return LEFT + (int) Math.round((v - r[0]) / (r[1] - r[0]) * (W - LEFT - RIGHT));
    }

    private int sy(double y, double[] r) {
        double v = logY ? Math.log10(Math.max(y, 1e-9)) : y;
        return H - BOTTOM - (int) Math.round((v - r[0]) / (r[1] - r[0]) * (H - TOP - BOTTOM));
    }

    private void axes(Graphics2D g, double[] xr, double[] yr) {
        axesY(g, yr);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        List<Double> xs = new ArrayList<>();
        for (List<double[]> pts : series.values()) {
            for (double[] p : pts) {
                if (xs.size() > MAX_VALUE_TICKS) break;
                if (!xs.contains(p[0])) xs.add(p[0]);
            }
        }
        if (xs.size() > MAX_VALUE_TICKS && !logX) xs = evenTicks(xr, 8);
        for (double x : xs) {
            int px = sx(x, xr);
            g.setColor(new Color(0xEEEEEE));
            g.drawLine(px, TOP, px, H - BOTTOM);
            g.setColor(Color.DARK_GRAY);
            String t = num(x);
            g.drawString(t, px - g.getFontMetrics().stringWidth(t) / 2, H - BOTTOM + 18);
        }
        g.drawString(xLabel, LEFT + (W - LEFT - RIGHT) / 2 - g.getFontMetrics().stringWidth(xLabel) / 2, H - 20);
    }

    /** Round-numbered ticks (1, 2 or 5 times a power of ten apart) across a linear range. */
    private static List<Double> evenTicks(double[] r, int about) {
        double raw = (r[1] - r[0]) / about;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 2 ? mag : raw / mag < 5 ? 2 * mag : 5 * mag;
        List<Double> ticks = new ArrayList<>();
        for (long k = (long) Math.ceil(r[0] / step); k * step <= r[1]; k++) ticks.add(k * step);
        return ticks;
    }

    private void axesY(Graphics2D g, double[] yr) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.DARK_GRAY);
        g.drawLine(LEFT, TOP, LEFT, H - BOTTOM);
        g.drawLine(LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM);
        // Where the ticks go, as fractions of the axis from the bottom, and the value at each.
        List<double[]> ticks = new ArrayList<>();
        if (roundTicks && !logY) {
            for (double v : evenTicks(yr, 5)) ticks.add(new double[] {(v - yr[0]) / (yr[1] - yr[0]), v});
        } else {
            for (int k = 0; k <= 5; k++) ticks.add(new double[] {(double) k / 5, yr[0] + (yr[1] - yr[0]) * k / 5});
        }
        for (double[] tick : ticks) {
            double v = tick[1];
            double value = logY ? Math.pow(10, v) : v;
            int y = H - BOTTOM - (int) Math.round(tick[0] * (H - TOP - BOTTOM));
            g.setColor(new Color(0xEEEEEE));
            g.drawLine(LEFT + 1, y, W - RIGHT, y);
            g.setColor(Color.DARK_GRAY);
            String t = roundTicks && value == Math.rint(value) ? String.format(Locale.ROOT, "%.0f", value) : num(value);
            g.drawString(t, LEFT - 8 - g.getFontMetrics().stringWidth(t), y + 4);
        }
        Graphics2D r = (Graphics2D) g.create();
        r.rotate(-Math.PI / 2);
        r.drawString(yLabel, -(TOP + (H - TOP - BOTTOM) / 2) - g.getFontMetrics().stringWidth(yLabel) / 2, 20);
        r.dispose();
    }

    private void legend(Graphics2D g, int index, String name) {
        int x = W - RIGHT + 20, y = TOP + 10 + index * 20;
        g.fillRect(x, y - 9, 14, 10);
        g.setColor(Color.BLACK);
        // A long name gets a somewhat smaller font, and then two lines (broken at a space), rather than
        // running off the picture's edge or shrinking past reading.
        int size = 12, room = W - 4 - (x + 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, size));
        while (size > 10 && g.getFontMetrics().stringWidth(name) > room) g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, --size));
        if (g.getFontMetrics().stringWidth(name) <= room) {
            g.drawString(name, x + 20, y);
            return;
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 9));
        int cut = name.length();
        while (cut > 0 && (name.charAt(cut - 1) != ' ' || g.getFontMetrics().stringWidth(name.substring(0, cut - 1)) > room)) cut--;
        if (cut == 0) cut = name.length();
        String first = name.substring(0, cut).stripTrailing(), second = name.substring(cut);
        g.drawString(first, x + 20, y - 4);
        g.drawString(second, x + 20, y + 6);
    }

    /** A tick label: few digits, more of them for small values. */
    public static String num(double v) {
        double a = Math.abs(v);
        if (a >= 1000) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 10) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 1) return String.format(Locale.ROOT, "%.1f", v);
        if (a == 0) return "0";
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
