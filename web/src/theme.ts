/**
 * The Mantine theme, tuned so text meets WCAG AA contrast (axe-core "color-contrast", checked on every page by
 * test/e2e/ui.test.ts): darker primary shade, filled variants pick black or white text by luminance, dimmed
 * and error text further from the background, and light-variant text (badges, light and subtle buttons) dark enough on its tint.
 */
import { Badge, createTheme, type CSSVariablesResolver, Drawer, Modal } from '@mantine/core';

/** Light-scheme text colours on a light tint (≥ 4.5:1 against the tint). */
const LIGHT_VARIANT_TEXT: Record<string, string> = {
  indigo: '#2f3fa8',
  blue: '#12508a',
  green: '#1e6b30',
  red: '#a51d1d',
  orange: '#953b00',
  yellow: '#704800',
  gray: '#343a40',
};

export const theme = createTheme({
  primaryColor: 'indigo',
  primaryShade: { light: 8, dark: 8 },
  autoContrast: true,
  // Animations off for people who ask their system for less motion.
  respectReducedMotion: true,
  defaultRadius: 'md',
  components: {
    // Light badges: dark text on a tint (filled mid-tone colours fail contrast with white or black text).
    Badge: Badge.extend({ defaultProps: { variant: 'light' } }),
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
    Drawer: Drawer.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
  },
});

export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': t.colors.gray[7],
    '--mantine-color-error': t.colors.red[9],
    ...Object.fromEntries(Object.entries(LIGHT_VARIANT_TEXT).map(([c, v]) => [`--mantine-color-${c}-light-color`, v])),
  },
  // Field errors on the dark background: the default red is below 4.5:1 there.
  dark: { '--mantine-color-dimmed': t.colors.dark[1], '--mantine-color-error': t.colors.red[4] },
});
